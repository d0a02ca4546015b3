// Deterministic AVX2 dot products, bit-identical to scalar_dot.cpp. The scalar reference
// computes, per block b, t_b = (dx*dy) * sumi + m*s (Q4_1) or sumi * (dx*dy) (Q8_0) with
// one IEEE rounding per operation, then sumf += t_b in block order. Here eight blocks'
// integer sums come from SIMD (exact), their t_b from elementwise SIMD multiplies and adds
// (the same roundings), and only the running sum stays sequential. The multi-row versions
// share one weight row's unpacking between activation rows and change nothing else. Compiled with
// -ffp-contract=off: a fused multiply-add would round once where the scalar rounds twice.
#include "base/det_math.hpp"
#include "kernels/attend_two_pass.hpp"
#include "kernels/avx2.hpp"
#include "kernels/kernels.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx2 {

namespace {

__m256i dot_bytes(__m256i u, __m256i s) { return dot_us8(u, s); }

#include "kernels/exact_dot_rows.inc"

}  // namespace

float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a) {
    float out;
    q4_1_q8_1_exact<1>(n, static_cast<const block_q4_1*>(w), &a, &out);
    return out;
}

void vec_dot_q4_1_q8_1_exact_rows(int64_t n, const void* w, const void* const* a, int nr, float* out) {
    q4_1_q8_1_exact_rows(n, w, a, nr, out);
}

float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a) {
    float out;
    q8_0_q8_0_exact<1>(n, static_cast<const block_q8_0*>(w), &a, &out);
    return out;
}

void vec_dot_q8_0_q8_0_exact_rows(int64_t n, const void* w, const void* const* a, int nr, float* out) {
    q8_0_q8_0_exact_rows(n, w, a, nr, out);
}

// det_exp on four lanes in double, step by step (det_exp_steps); specials patched after.
void exp_det(int64_t n, const float* x, float* y) {
    namespace st = det_exp_steps;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 xf = _mm_loadu_ps(x + i);
        const __m256d xd = _mm256_cvtps_pd(xf);
        const __m256d v = _mm256_mul_pd(xd, _mm256_set1_pd(st::kLog2e));
        const __m256d half = _mm256_blendv_pd(_mm256_set1_pd(0.5), _mm256_set1_pd(-0.5), _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_LT_OQ));
        const __m256d k = _mm256_round_pd(_mm256_add_pd(v, half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256d r = _mm256_sub_pd(_mm256_sub_pd(xd, _mm256_mul_pd(k, _mm256_set1_pd(st::kLn2Hi))),
                                        _mm256_mul_pd(k, _mm256_set1_pd(st::kLn2Lo)));
        __m256d p = _mm256_set1_pd(st::kFirst);
        for (double c : st::kPoly) p = _mm256_add_pd(_mm256_mul_pd(p, r), _mm256_set1_pd(c));
        const __m256i k64 = _mm256_cvtepi32_epi64(_mm256_cvttpd_epi32(k));
        const __m256d pow2k = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k64, _mm256_set1_epi64x(1023)), 52));
        __m128 e = _mm256_cvtpd_ps(_mm256_mul_pd(p, pow2k));
        e = _mm_blendv_ps(e, _mm_set1_ps(__builtin_inff()), _mm_cmpgt_ps(xf, _mm_set1_ps(st::kMax)));
        e = _mm_blendv_ps(e, _mm_setzero_ps(), _mm_cmplt_ps(xf, _mm_set1_ps(st::kMin)));
        e = _mm_blendv_ps(e, xf, _mm_cmpunord_ps(xf, xf));
        _mm_storeu_ps(y + i, e);
    }
    if (i < n) kernels::exp_det(n - i, x + i, y + i);
}

namespace {

// kernels::dot_f16_f32_lanes8: lane k sums the products i = k mod 8 (exact conversions,
// separate multiply and add), then hsum's tree ((0+4)+(2+6))+((1+5)+(3+7)), then the tail.
float dot_f16_f32_exact(int64_t n, const uint16_t* x, const float* y) {
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 xf = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
        acc = _mm256_add_ps(acc, _mm256_mul_ps(xf, _mm256_loadu_ps(y + i)));
    }
    float sum = hsum(acc);
    for (; i < n; i++) sum += half_to_float(x[i]) * y[i];
    return sum;
}

// Elementwise, so SIMD is exact as long as the multiply and add stay separate.
void axpy_f16_exact(int64_t n, float a, const uint16_t* x, float* y) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 xf = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, xf)));
    }
    for (; i < n; i++) y[i] += a * half_to_float(x[i]);
}

}  // namespace

void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out) {
    attend_two_pass<dot_f16_f32_exact, axpy_f16_exact, exp_det>(group, hd, q, k, v, stride, n, scale, scores, out);
}

}  // namespace lmx::kernels::avx2
