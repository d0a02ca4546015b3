// Deterministic AVX2 dot products, bit-identical to scalar_dot.cpp. The scalar reference
// computes, per block b, t_b = (dx*dy) * sumi + m*s (Q4_1) or sumi * (dx*dy) (Q8_0) with
// one IEEE rounding per operation, then sumf += t_b in block order. Here eight blocks'
// integer sums come from SIMD (exact), their t_b from elementwise SIMD multiplies and adds
// (the same roundings), and only the running sum stays sequential. Compiled with
// -ffp-contract=off: a fused multiply-add would round once where the scalar rounds twice.
#include "kernels/avx2.hpp"
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

// Eight fp16 fields, one per block, at a byte stride.
__m256 halves8(const void* first, size_t stride) {
    alignas(16) uint16_t h[8];
    for (size_t k = 0; k < 8; k++) h[k] = load_u16(static_cast<const uint8_t*>(first) + k * stride);
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

float add_in_order(float sumf, __m256 t) {
    alignas(32) float v[8];
    _mm256_store_ps(v, t);
    for (float x : v) sumf += x;
    return sumf;
}

}  // namespace

float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_1*>(w);
    const auto* y = static_cast<const block_q8_1*>(a);
    const int64_t nb = n / QK8_1;
    float sumf = 0;
    int64_t ib = 0;
    for (; ib + 8 <= nb; ib += 8) {
        __m256i p[8];
        for (int k = 0; k < 8; k++) p[k] = dot_us8(unpack_nibbles(x[ib + k].qs), load256(y[ib + k].qs));
        const __m256 dd = _mm256_mul_ps(halves8(&x[ib].d, sizeof(block_q4_1)), halves8(&y[ib].d, sizeof(block_q8_1)));
        const __m256 ms = _mm256_mul_ps(halves8(&x[ib].m, sizeof(block_q4_1)), halves8(&y[ib].s, sizeof(block_q8_1)));
        sumf = add_in_order(sumf, _mm256_add_ps(_mm256_mul_ps(dd, _mm256_cvtepi32_ps(sum8(p))), ms));
    }
    for (; ib < nb; ib++) {
        const int sumi = hsum_i32(dot_us8(unpack_nibbles(x[ib].qs), load256(y[ib].qs)));
        sumf += (half_to_float(x[ib].d) * half_to_float(y[ib].d)) * static_cast<float>(sumi) +
                half_to_float(x[ib].m) * half_to_float(y[ib].s);
    }
    return sumf;
}

float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    float sumf = 0;
    int64_t ib = 0;
    for (; ib + 8 <= nb; ib += 8) {
        __m256i p[8];
        for (int k = 0; k < 8; k++) p[k] = dot_s8(load256(x[ib + k].qs), load256(y[ib + k].qs));
        const __m256 dd = _mm256_mul_ps(halves8(&x[ib].d, sizeof(block_q8_0)), halves8(&y[ib].d, sizeof(block_q8_0)));
        sumf = add_in_order(sumf, _mm256_mul_ps(_mm256_cvtepi32_ps(sum8(p)), dd));
    }
    for (; ib < nb; ib++) {
        const int sumi = hsum_i32(dot_s8(load256(x[ib].qs), load256(y[ib].qs)));
        sumf += static_cast<float>(sumi) * (half_to_float(x[ib].d) * half_to_float(y[ib].d));
    }
    return sumf;
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

}  // namespace lmx::kernels::avx2
