#pragma once
// Small AVX-512 helpers shared by the avx512_* translation units (include only from files
// compiled with the AVX-512 flags, after kernels/avx512_intrinsics.hpp).
#include <cstdint>

#include "kernels/simd_avx2.hpp"

namespace lmx::kernels::avx512 {

// 32 bytes at p0, then 32 at p1.
inline __m512i load_pair(const int8_t* p0, const int8_t* p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(avx2::load256(p0)), avx2::load256(p1), 1);
}

// The 32 nibbles of each of two 16-byte groups as [lo0 hi0 lo1 hi1]: the low nibbles of
// qs0's 16 bytes, then their high nibbles, then qs1's likewise.
inline __m512i unpack_nibble_pair(const uint8_t* qs0, const uint8_t* qs1) {
    const __m256i b0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0)));
    const __m256i b1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1)));
    const __m512i shifts = _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4);
    return _mm512_and_si512(_mm512_srlv_epi64(_mm512_inserti64x4(_mm512_castsi256_si512(b0), b1, 1), shifts),
                            _mm512_set1_epi8(0x0F));
}

// avx2::exp_ps's method, 2^n by vscalefps: 0 below -103.9, +inf above 88.7, NaN stays NaN.
inline __m512 exp_ps(__m512 x) {
    using namespace avx2::exp_cephes;
    const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-103.9f), _CMP_NLT_UQ);
    x = _mm512_min_ps(_mm512_set1_ps(88.8f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));  // NaN: x
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(kP0), r, _mm512_set1_ps(kP1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP5));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_mov_ps(keep, _mm512_scalef_ps(p, n));
}

// GELU, x · Φ(x): Φ from erfc by Abramowitz & Stegun 7.1.26 (erf within 1.5e-7), 1 − ½erfc
// for x ≥ 0, ½erfc below, so negative inputs lose nothing more to cancellation.
inline __m512 gelu_ps(__m512 x) {
    using namespace avx2::gelu_as;
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(kInvSqrt2));
    const __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(kP), z, one));
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(kA5), t, _mm512_set1_ps(kA4));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kA3));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kA2));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kA1));
    const __m512 half_erfc = _mm512_mul_ps(_mm512_mul_ps(p, t), _mm512_mul_ps(_mm512_set1_ps(0.5f), exp_ps(_mm512_mul_ps(z, _mm512_sub_ps(_mm512_setzero_ps(), z)))));
    const __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    return _mm512_mul_ps(x, _mm512_mask_sub_ps(half_erfc, pos, one, half_erfc));
}

}  // namespace lmx::kernels::avx512
