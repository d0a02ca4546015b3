// Deterministic AVX2 dot products, bit-identical to scalar_dot.cpp. The scalar reference
// computes, per block b, t_b = (dx*dy) * sumi + m*s (Q4_1) or sumi * (dx*dy) (Q8_0) with
// one IEEE rounding per operation, then sumf += t_b in block order. Here eight blocks'
// integer sums come from SIMD (exact), their t_b from elementwise SIMD multiplies and adds
// (the same roundings), and only the running sum stays sequential. The multi-row versions
// share one weight row's unpacking between activation rows and change nothing else. Compiled with
// -ffp-contract=off: a fused multiply-add would round once where the scalar rounds twice.
#include "base/det_math.hpp"
#include "kernels/avx2.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx2 {

namespace {

// The eight int32 totals of eight vectors of partial sums, in order.
__m256i sum8(const __m256i p[8]) {
    const __m256i h0123 = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    const __m256i h4567 = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20), _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

// The fp16 pairs (first 4 bytes) of eight blocks at a byte stride, converted: lo gets
// the first half of each pair (d), hi the second (m of Q4_1, s of Q8_1).
void pairs8(const void* first, size_t stride, __m256* lo, __m256* hi) {
    const auto* p = static_cast<const uint8_t*>(first);
    __m256i v = _mm256_setr_epi32(static_cast<int>(load_u32(p)), static_cast<int>(load_u32(p + stride)),
                                  static_cast<int>(load_u32(p + 2 * stride)), static_cast<int>(load_u32(p + 3 * stride)),
                                  static_cast<int>(load_u32(p + 4 * stride)), static_cast<int>(load_u32(p + 5 * stride)),
                                  static_cast<int>(load_u32(p + 6 * stride)), static_cast<int>(load_u32(p + 7 * stride)));
    // per 128-bit lane: the four first halves, then the four second halves
    v = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                                0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
    v = _mm256_permute4x64_epi64(v, 0xD8);  // [firsts 0-3, firsts 4-7, seconds 0-3, seconds 4-7]
    *lo = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
    *hi = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
}

// The fp16 d (first 2 bytes) of eight blocks at a byte stride, converted.
__m256 halves8(const void* first, size_t stride) {
    const auto* p = static_cast<const uint8_t*>(first);
    const __m128i h = _mm_setr_epi16(
        static_cast<int16_t>(load_u16(p)), static_cast<int16_t>(load_u16(p + stride)),
        static_cast<int16_t>(load_u16(p + 2 * stride)), static_cast<int16_t>(load_u16(p + 3 * stride)),
        static_cast<int16_t>(load_u16(p + 4 * stride)), static_cast<int16_t>(load_u16(p + 5 * stride)),
        static_cast<int16_t>(load_u16(p + 6 * stride)), static_cast<int16_t>(load_u16(p + 7 * stride)));
    return _mm256_cvtph_ps(h);
}

float add_in_order(float sumf, __m256 t) {
    alignas(32) float v[8];
    _mm256_store_ps(v, t);
    for (float x : v) sumf += x;
    return sumf;
}

// One weight row against NR activation rows; each row's arithmetic is the single-row
// reference's, only the weight unpacking and scale conversion are shared.
template <int NR>
void q4_1_q8_1_exact(int64_t n, const block_q4_1* x, const void* const* a, float* out) {
    const int64_t nb = n / QK8_1;
    const block_q8_1* y[NR];
    float sumf[NR];
    for (int r = 0; r < NR; r++) y[r] = static_cast<const block_q8_1*>(a[r]), sumf[r] = 0;
    int64_t ib = 0;
    for (; ib + 8 <= nb; ib += 8) {
        __m256i q[8];
        for (int k = 0; k < 8; k++) q[k] = unpack_nibbles(x[ib + k].qs);
        __m256 xd, xm;
        pairs8(&x[ib], sizeof(block_q4_1), &xd, &xm);
        for (int r = 0; r < NR; r++) {
            const block_q8_1* yb = y[r] + ib;
            __m256i p[8];
            for (int k = 0; k < 8; k++) p[k] = dot_us8(q[k], load256(yb[k].qs));
            __m256 yd, ys;
            pairs8(yb, sizeof(block_q8_1), &yd, &ys);
            const __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(xd, yd), _mm256_cvtepi32_ps(sum8(p))),
                                           _mm256_mul_ps(xm, ys));
            sumf[r] = add_in_order(sumf[r], t);
        }
    }
    for (; ib < nb; ib++) {
        const __m256i q = unpack_nibbles(x[ib].qs);
        for (int r = 0; r < NR; r++) {
            const int sumi = hsum_i32(dot_us8(q, load256(y[r][ib].qs)));
            sumf[r] += (half_to_float(x[ib].d) * half_to_float(y[r][ib].d)) * static_cast<float>(sumi) +
                       half_to_float(x[ib].m) * half_to_float(y[r][ib].s);
        }
    }
    for (int r = 0; r < NR; r++) out[r] = sumf[r];
}

template <int NR>
void q8_0_q8_0_exact(int64_t n, const block_q8_0* x, const void* const* a, float* out) {
    const int64_t nb = n / QK8_0;
    const block_q8_0* y[NR];
    float sumf[NR];
    for (int r = 0; r < NR; r++) y[r] = static_cast<const block_q8_0*>(a[r]), sumf[r] = 0;
    int64_t ib = 0;
    for (; ib + 8 <= nb; ib += 8) {
        __m256i q[8], ax[8];  // the weights and their magnitudes (dot_s8 split in two)
        for (int k = 0; k < 8; k++) q[k] = load256(x[ib + k].qs), ax[k] = _mm256_sign_epi8(q[k], q[k]);
        const __m256 xd = halves8(&x[ib], sizeof(block_q8_0));
        for (int r = 0; r < NR; r++) {
            const block_q8_0* yb = y[r] + ib;
            __m256i p[8];
            for (int k = 0; k < 8; k++) p[k] = dot_us8(ax[k], _mm256_sign_epi8(load256(yb[k].qs), q[k]));
            const __m256 dd = _mm256_mul_ps(xd, halves8(yb, sizeof(block_q8_0)));
            sumf[r] = add_in_order(sumf[r], _mm256_mul_ps(_mm256_cvtepi32_ps(sum8(p)), dd));
        }
    }
    for (; ib < nb; ib++) {
        const __m256i q = load256(x[ib].qs);
        for (int r = 0; r < NR; r++) {
            const int sumi = hsum_i32(dot_s8(q, load256(y[r][ib].qs)));
            sumf[r] += static_cast<float>(sumi) * (half_to_float(x[ib].d) * half_to_float(y[r][ib].d));
        }
    }
    for (int r = 0; r < NR; r++) out[r] = sumf[r];
}

}  // namespace

float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a) {
    float out;
    q4_1_q8_1_exact<1>(n, static_cast<const block_q4_1*>(w), &a, &out);
    return out;
}

void vec_dot_q4_1_q8_1_exact_rows(int64_t n, const void* w, const void* const* a, int nr, float* out) {
    const auto* x = static_cast<const block_q4_1*>(w);
    switch (nr) {
        case 4: q4_1_q8_1_exact<4>(n, x, a, out); break;
        case 3: q4_1_q8_1_exact<3>(n, x, a, out); break;
        case 2: q4_1_q8_1_exact<2>(n, x, a, out); break;
        default: q4_1_q8_1_exact<1>(n, x, a, out); break;
    }
}

float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a) {
    float out;
    q8_0_q8_0_exact<1>(n, static_cast<const block_q8_0*>(w), &a, &out);
    return out;
}

void vec_dot_q8_0_q8_0_exact_rows(int64_t n, const void* w, const void* const* a, int nr, float* out) {
    const auto* x = static_cast<const block_q8_0*>(w);
    switch (nr) {
        case 4: q8_0_q8_0_exact<4>(n, x, a, out); break;
        case 3: q8_0_q8_0_exact<3>(n, x, a, out); break;
        case 2: q8_0_q8_0_exact<2>(n, x, a, out); break;
        default: q8_0_q8_0_exact<1>(n, x, a, out); break;
    }
}

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

}  // namespace lmx::kernels::avx2
