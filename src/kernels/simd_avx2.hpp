#pragma once
// Small AVX2 helpers shared by the avx2_*/avx512_* translation units (include only from
// files compiled with -mavx2 -mfma -mf16c).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lmx::kernels::avx2 {

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Cephes expf's range reduction (x = n ln2 + r, ln2 in two parts) and polynomial on
// |r| <= ln2/2, for the activations and softmax of the fast path (deterministic mode has
// its own exp): within 2 ulp of e^x, 0 below -87.3 (where e^x leaves the normal floats),
// saturating at e^88.3 above (2^n is built in the exponent field, n <= 127); NaN stays NaN.
namespace exp_cephes {
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;
}  // namespace exp_cephes

inline __m256 exp_ps(__m256 x) {
    using namespace exp_cephes;
    const __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_NLT_UQ);
    x = _mm256_min_ps(_mm256_set1_ps(88.3f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));  // NaN: x
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(kP0), r, _mm256_set1_ps(kP1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP5));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i two_n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(two_n)), keep);
}

// The constants of gelu_ps (Abramowitz & Stegun 7.1.26's erfc), shared with AVX-512's.
namespace gelu_as {
constexpr float kInvSqrt2 = 0.70710678118654752440f, kP = 0.3275911f;
constexpr float kA1 = 0.254829592f, kA2 = -0.284496736f, kA3 = 1.421413741f, kA4 = -1.453152027f, kA5 = 1.061405429f;
}  // namespace gelu_as

// GELU, x · Φ(x), as avx512::gelu_ps computes it (see there).
inline __m256 gelu_ps(__m256 x) {
    using namespace gelu_as;
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(kInvSqrt2));
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(kP), z, one));
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(kA5), t, _mm256_set1_ps(kA4));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kA3));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kA2));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kA1));
    const __m256 half_erfc = _mm256_mul_ps(_mm256_mul_ps(p, t), _mm256_mul_ps(_mm256_set1_ps(0.5f), exp_ps(_mm256_mul_ps(z, _mm256_sub_ps(_mm256_setzero_ps(), z)))));
    const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    return _mm256_mul_ps(x, _mm256_blendv_ps(half_erfc, _mm256_sub_ps(one, half_erfc), pos));
}

inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Round to nearest even, like fp32_to_fp16 (clang's _cvtss_sh macro is not valid C++).
inline uint16_t float_to_half(float f) {
    return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

// 16 bytes of packed nibbles -> 32 bytes: the low nibbles, then the high nibbles
// (ggml's element order for Q4_0/Q4_1).
inline __m256i unpack_nibbles(const uint8_t* p) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 8 int32 partial sums of u[i] * s[i] (u unsigned, s signed bytes).
inline __m256i dot_us8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Same for two signed byte vectors: the sign moves onto s so maddubs sees |x| unsigned.
// s must not hold -128 (activations are quantized to [-127, 127]).
inline __m256i dot_s8(__m256i x, __m256i s) {
    return dot_us8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(s, x));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline uint32_t load_u32(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline uint16_t load_u16(const void* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

// The scales of a pair of blocks whose first 4 bytes are two halves, (d, m) for the
// weights and (d, s) for Q8_1, all converted by one vcvtph2ps:
// [dx0*dy0, mx0*sy0, dx1*dy1, mx1*sy1].
inline __m128 pair_scales_dm(const void* x0, const void* x1, const void* y0, const void* y1) {
    const __m128i h = _mm_setr_epi32(static_cast<int>(load_u32(x0)), static_cast<int>(load_u32(x1)),
                                     static_cast<int>(load_u32(y0)), static_cast<int>(load_u32(y1)));
    const __m256 f = _mm256_cvtph_ps(h);
    return _mm_mul_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1));
}

// Same for blocks that start with one half d: [dx0*dy0, dx1*dy1, -, -].
inline __m128 pair_scales_d(const void* x0, const void* x1, const void* y0, const void* y1) {
    const uint64_t h = load_u16(x0) | uint64_t{load_u16(x1)} << 16 | uint64_t{load_u16(y0)} << 32 |
                       uint64_t{load_u16(y1)} << 48;
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(h)));
    return _mm_mul_ps(f, _mm_movehl_ps(f, f));
}

// Lane i of v in all 8 lanes.
inline __m256 broadcast_lane(__m128 v, int i) {
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), _mm256_set1_epi32(i));
}

}  // namespace lmx::kernels::avx2
