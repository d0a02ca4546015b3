// AVX2 dot products of the float types and the 32-element block quants. Per block: the
// integer dot of 32 pairs (maddubs + madd), one float multiply-add by the block's scales.
#include "kernels/avx2.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx2 {

float vec_dot_f32(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const float*>(w);
    const auto* y = static_cast<const float*>(a);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

float vec_dot_f16(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const uint8_t*>(w);
    const auto* y = static_cast<const uint8_t*>(a);
    auto load8 = [](const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); };
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(load8(x + 2 * (i + 8 * k)), load8(y + 2 * (i + 8 * k)), acc[k]);
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; i++) {
        uint16_t hx, hy;
        std::memcpy(&hx, x + 2 * i, 2);
        std::memcpy(&hy, y + 2 * i, 2);
        sum += half_to_float(hx) * half_to_float(hy);
    }
    return sum;
}

// Blocks go in pairs, one accumulator each, so that the scales of both convert in one
// instruction and the two FMA chains overlap; an odd last block goes to the scalar kernel.
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    const __m256i k8 = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        const __m128 d = pair_scales_d(&x[ib], &x[ib + 1], &y[ib], &y[ib + 1]);
        const __m256i qx0 = _mm256_sub_epi8(unpack_nibbles(x[ib].qs), k8);
        const __m256i qx1 = _mm256_sub_epi8(unpack_nibbles(x[ib + 1].qs), k8);
        acc0 = _mm256_fmadd_ps(broadcast_lane(d, 0), _mm256_cvtepi32_ps(dot_s8(qx0, load256(y[ib].qs))), acc0);
        acc1 = _mm256_fmadd_ps(broadcast_lane(d, 1), _mm256_cvtepi32_ps(dot_s8(qx1, load256(y[ib + 1].qs))), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    if (ib < nb) sum += kernels::vec_dot_q4_0_q8_0(QK8_0, x + ib, y + ib);
    return sum;
}

// Byte i is 0xFF where bit i of bits is set (each 128-bit lane picks its two source bytes).
static __m256i bits_to_bytes(uint32_t bits) {
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                                               _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                                2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Q5_0: the nibbles (elements 0-15 low, 16-31 high, as unpack_nibbles orders them) plus
// bit i of qh as element i's fifth bit, minus 16; then as Q4_0.
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q5_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    const __m256i k16 = _mm256_set1_epi8(16);
    auto weights = [&](const block_q5_0& b) {
        const __m256i hi = _mm256_and_si256(bits_to_bytes(load_u32(b.qh)), k16);
        return _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles(b.qs), hi), k16);
    };
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        const __m128 d = pair_scales_d(&x[ib], &x[ib + 1], &y[ib], &y[ib + 1]);
        acc0 = _mm256_fmadd_ps(broadcast_lane(d, 0), _mm256_cvtepi32_ps(dot_s8(weights(x[ib]), load256(y[ib].qs))), acc0);
        acc1 = _mm256_fmadd_ps(broadcast_lane(d, 1), _mm256_cvtepi32_ps(dot_s8(weights(x[ib + 1]), load256(y[ib + 1].qs))), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    if (ib < nb) sum += kernels::vec_dot_q5_0_q8_0(QK8_0, x + ib, y + ib);
    return sum;
}

float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_1*>(w);
    const auto* y = static_cast<const block_q8_1*>(a);
    const int64_t nb = n / QK8_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();  // lanes 1 and 3 sum m * s, the min terms
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        const __m128 d = pair_scales_dm(&x[ib], &x[ib + 1], &y[ib], &y[ib + 1]);
        acc_m = _mm_add_ps(acc_m, d);
        const __m256i p0 = dot_us8(unpack_nibbles(x[ib].qs), load256(y[ib].qs));
        const __m256i p1 = dot_us8(unpack_nibbles(x[ib + 1].qs), load256(y[ib + 1].qs));
        acc0 = _mm256_fmadd_ps(broadcast_lane(d, 0), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(broadcast_lane(d, 2), _mm256_cvtepi32_ps(p1), acc1);
    }
    alignas(16) float m[4];
    _mm_store_ps(m, acc_m);
    float sum = hsum(_mm256_add_ps(acc0, acc1)) + m[1] + m[3];
    if (ib < nb) sum += kernels::vec_dot_q4_1_q8_1(QK8_1, x + ib, y + ib);
    return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        const __m128 d = pair_scales_d(&x[ib], &x[ib + 1], &y[ib], &y[ib + 1]);
        const __m256i p0 = dot_s8(load256(x[ib].qs), load256(y[ib].qs));
        const __m256i p1 = dot_s8(load256(x[ib + 1].qs), load256(y[ib + 1].qs));
        acc0 = _mm256_fmadd_ps(broadcast_lane(d, 0), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(broadcast_lane(d, 1), _mm256_cvtepi32_ps(p1), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    if (ib < nb) sum += kernels::vec_dot_q8_0_q8_0(QK8_0, x + ib, y + ib);
    return sum;
}

}  // namespace lmx::kernels::avx2
