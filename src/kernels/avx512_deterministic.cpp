// Deterministic AVX-512 kernels, the scalar reference's bits. Multi-row Q4_1 and Q8_0
// dots: the AVX2 exact kernels (exact_dot_rows.inc) with vpdpbusd for the byte products,
// one instruction where AVX2 needs two; the integer sums are exact either way. det_exp on
// eight double lanes, and attend_det_f16. Compiled with -ffp-contract=off like
// avx2_deterministic.cpp.

#include "kernels/avx512_intrinsics.hpp"

#include <algorithm>
#include <cmath>

#include "base/det_math.hpp"
#include "kernels/avx2.hpp"
#include "kernels/isa_tables.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx512 {

namespace {

using avx2::dot_s8, avx2::half_to_float, avx2::hsum_i32, avx2::load256, avx2::load_u16, avx2::load_u32, avx2::unpack_nibbles;

__m256i dot_bytes(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }

#include "kernels/exact_dot_rows.inc"

// The 8-lane order of dot_f16_f32_lanes8 for two positions at once: their fp16 key rows'
// 8-value chunks c side by side in one register (lanes 0-7 position j, 8-15 position
// j + 1), each head's query chunk in both halves, one multiply and one add per chunk.
// Then hsum's tree within each half: (l + l+4), then (0 + 2), (1 + 3), then (0 + 1).
__m512 key_pair(const uint16_t* k0, const uint16_t* k1) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k0));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k1));
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

__m512 query_pair(const float* q) { return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(q)))); }

__m512 tree_halves(__m512 a) {
    a = _mm512_add_ps(a, _mm512_shuffle_f32x4(a, a, _MM_SHUFFLE(2, 3, 0, 1)));
    a = _mm512_add_ps(a, _mm512_permute_ps(a, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_add_ps(a, _mm512_permute_ps(a, _MM_SHUFFLE(2, 3, 0, 1)));
}

}  // namespace

// det_exp on eight lanes in double: avx2::exp_det's steps (det_exp_steps), specials patched after.
void exp_det(int64_t n, const float* x, float* y) {
    namespace st = det_exp_steps;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 xf = _mm256_loadu_ps(x + i);
        const __m512d xd = _mm512_cvtps_pd(xf);
        const __m512d v = _mm512_mul_pd(xd, _mm512_set1_pd(st::kLog2e));
        const __mmask8 neg = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
        const __m512d half = _mm512_mask_blend_pd(neg, _mm512_set1_pd(0.5), _mm512_set1_pd(-0.5));
        const __m512d k = _mm512_roundscale_pd(_mm512_add_pd(v, half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m512d r = _mm512_sub_pd(_mm512_sub_pd(xd, _mm512_mul_pd(k, _mm512_set1_pd(st::kLn2Hi))),
                                        _mm512_mul_pd(k, _mm512_set1_pd(st::kLn2Lo)));
        __m512d p = _mm512_set1_pd(st::kFirst);
        for (double c : st::kPoly) p = _mm512_add_pd(_mm512_mul_pd(p, r), _mm512_set1_pd(c));
        const __m512i k64 = _mm512_cvtepi32_epi64(_mm512_cvttpd_epi32(k));
        const __m512d pow2k = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(k64, _mm512_set1_epi64(1023)), 52));
        __m256 e = _mm512_cvtpd_ps(_mm512_mul_pd(p, pow2k));
        e = _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(xf, _mm256_set1_ps(st::kMax), _CMP_GT_OQ));
        e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(xf, _mm256_set1_ps(st::kMin), _CMP_LT_OQ));
        e = _mm256_blendv_ps(e, xf, _mm256_cmp_ps(xf, xf, _CMP_UNORD_Q));
        _mm256_storeu_ps(y + i, e);
    }
    if (i < n) avx2::exp_det(n - i, x + i, y + i);
}

namespace {

// Rows of a long context come from memory, which this VM's hardware prefetch does not
// request early enough: rows kAhead positions on are asked for while these compute.
constexpr int64_t kAhead = 32;
void prefetch_rows(const uint16_t* first, int rows, int64_t stride, int hd) {
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < 2 * hd; b += 64) _mm_prefetch(reinterpret_cast<const char*>(first + r * stride) + b, _MM_HINT_T0);
}

// The weighted values of NB heads g0.. (NV registers of 16 values each), their sums in
// registers across all n positions: per position one conversion of the value row, then a
// multiply and an add per register, j ascending.
template <int NV, int NB>
void weighted_values(int g0, const uint16_t* v, int64_t stride, int64_t n, const float* scores, float* out) {
    __m512 acc[NB][NV];
    for (int b = 0; b < NB; b++)
        for (int c = 0; c < NV; c++) acc[b][c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j++) {
        const uint16_t* vj = v + j * stride;
        prefetch_rows(vj + kAhead * stride, 1, stride, 16 * NV);
        __m512 row[NV];
        for (int c = 0; c < NV; c++) row[c] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(vj + 16 * c)));
        for (int b = 0; b < NB; b++) {
            const __m512 p = _mm512_set1_ps(scores[(g0 + b) * n + j]);
            for (int c = 0; c < NV; c++) acc[b][c] = _mm512_add_ps(acc[b][c], _mm512_mul_ps(p, row[c]));
        }
    }
    for (int b = 0; b < NB; b++)
        for (int c = 0; c < NV; c++) _mm512_storeu_ps(out + (g0 + b) * 16 * NV + 16 * c, acc[b][c]);
}

// attend_det_f16 (kernels.hpp) for a head of HD = 64, 128 or 256 values; the scalar
// reference's bits. Scores two positions a register, each key pair converted once for
// the group; the weighted values in blocks of heads whose sums fill 16 registers.
template <int HD>
void attend_det(int group, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* scores, float* out) {
    float max_s[kMaxAttendGroup], sum[kMaxAttendGroup];
    for (int g = 0; g < group; g++) max_s[g] = -INFINITY, sum[g] = 0;
    for (int64_t j = 0; j < n; j += 2) {
        const uint16_t* k0 = k + j * stride;
        const uint16_t* k1 = j + 1 < n ? k0 + stride : k0;  // an odd last position pairs with itself
        prefetch_rows(k0 + kAhead * stride, 2, stride, HD);
        __m512 keys[HD / 8];
        for (int c = 0; c < HD / 8; c++) keys[c] = key_pair(k0 + 8 * c, k1 + 8 * c);
        for (int g = 0; g < group; g++) {
            const float* qg = q + g * HD;
            __m512 acc = _mm512_setzero_ps();
            for (int c = 0; c < HD / 8; c++) acc = _mm512_add_ps(acc, _mm512_mul_ps(keys[c], query_pair(qg + 8 * c)));
            acc = tree_halves(acc);
            const float s0 = _mm512_cvtss_f32(acc) * scale;
            scores[g * n + j] = s0;
            max_s[g] = s0 > max_s[g] ? s0 : max_s[g];
            if (j + 1 < n) {
                const float s1 = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc, 2)) * scale;
                scores[g * n + j + 1] = s1;
                max_s[g] = s1 > max_s[g] ? s1 : max_s[g];
            }
        }
    }
    for (int g = 0; g < group; g++) {
        float* sg = scores + g * n;
        const __m512 m = _mm512_set1_ps(max_s[g]);
        int64_t j = 0;
        for (; j + 16 <= n; j += 16) _mm512_storeu_ps(sg + j, _mm512_sub_ps(_mm512_loadu_ps(sg + j), m));
        for (; j < n; j++) sg[j] -= max_s[g];
        exp_det(n, sg, sg);
    }
    for (int64_t j = 0; j < n; j++)  // heads inner: their sums are independent chains
        for (int g = 0; g < group; g++) sum[g] += scores[g * n + j];
    constexpr int NV = HD / 16, kBlock = NV >= 16 ? 1 : 16 / NV;
    for (int g0 = 0; g0 < group; g0 += kBlock) {
        switch (std::min(kBlock, group - g0)) {
            case 4: if constexpr (kBlock >= 4) weighted_values<NV, 4>(g0, v, stride, n, scores, out); break;
            case 3: if constexpr (kBlock >= 3) weighted_values<NV, 3>(g0, v, stride, n, scores, out); break;
            case 2: if constexpr (kBlock >= 2) weighted_values<NV, 2>(g0, v, stride, n, scores, out); break;
            default: weighted_values<NV, 1>(g0, v, stride, n, scores, out); break;
        }
    }
    for (int g = 0; g < group; g++) {
        const __m512 d = _mm512_set1_ps(sum[g]);
        for (int c = 0; c < NV; c++) _mm512_storeu_ps(out + g * HD + 16 * c, _mm512_div_ps(_mm512_loadu_ps(out + g * HD + 16 * c), d));
    }
}

}  // namespace

void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out) {
    switch (hd) {
        case 64: return attend_det<64>(group, q, k, v, stride, n, scale, scores, out);
        case 128: return attend_det<128>(group, q, k, v, stride, n, scale, scores, out);
        case 256: return attend_det<256>(group, q, k, v, stride, n, scale, scores, out);
        default: return avx2::attend_det_f16(group, hd, q, k, v, stride, n, scale, scores, out);  // other head sizes
    }
}

}  // namespace lmx::kernels::avx512

namespace lmx::kernels {

void add_avx512_deterministic_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot_rows = avx512::q4_1_q8_1_exact_rows;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot_rows = avx512::q8_0_q8_0_exact_rows;
}

}  // namespace lmx::kernels
