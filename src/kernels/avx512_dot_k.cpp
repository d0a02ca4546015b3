// AVX-512 VNNI dot products of Q4_K and Q6_K with Q8_K activations (Qwen2.5's and most
// K-quant models' weights), for one or several activation rows. 64 weight quants fill
// one register in the activations' own order, so each 64 activation bytes are one load;
// vpmaddubsw makes the 16-bit pair sums and vpdpwssd multiplies them by the 16-bit
// sub-block scales and accumulates, two instructions per 64 products (the AVX2 kernels
// need six). The constant parts (Q4_K's mins, Q6_K's -32 offset) come from the
// activations' 16-element sums (bsums), one vpmaddwd per super-block.

#include "kernels/avx512_intrinsics.hpp"

#include "kernels/kernels.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx512 {

using avx2::half_to_float, avx2::hsum, avx2::load256;

static __m512i load512(const void* p) { return _mm512_loadu_si512(p); }

// [a x16 | b x16] as 16-bit lanes: the scale of the low 32 bytes, then of the high 32.
static __m512i scale_pair(int a, int b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(static_cast<int16_t>(a))),
                              _mm256_set1_epi16(static_cast<int16_t>(b)), 1);
}

// The 12 bytes of 6-bit scales and mins of a Q4_K super-block as [scale 0..7, min 0..7]
// (get_scale_min_k4 for all eight sub-blocks at once, on 32-bit words).
static __m128i unpack_scales_mins(const uint8_t* q) {
    uint32_t w[3];
    std::memcpy(w, q, sizeof w);
    constexpr uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    const uint32_t sc_lo = w[0] & low6, sc_hi = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);
    const uint32_t mn_lo = w[1] & low6, mn_hi = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4);
    return _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(mn_lo), static_cast<int>(mn_hi));
}

// Each kernel runs one weight row against NR activation rows: the weight unpacking and
// scales of a super-block are shared, each row's arithmetic is the one-row kernel's
// (vec_dot is the NR = 1 case), so batching never changes a result.
struct Q4K {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        const auto* x = static_cast<const block_q4_K*>(w);
        const block_q8_K* y[NR];
        __m512 acc[NR];
        __m256 acc_m[NR];
        for (int r = 0; r < NR; r++)
            y[r] = static_cast<const block_q8_K*>(a[r]), acc[r] = _mm512_setzero_ps(), acc_m[r] = _mm256_setzero_ps();
        const __m512i m4 = _mm512_set1_epi8(0xF);
        // permutations of [scale 0..7, min 0..7] as 16-bit lanes: scale_idx[j] = [2j x16 | 2j+1 x16]
        // (the scales of sub-blocks 2j and 2j+1), min_idx = [8, 8, 9, 9, ..., 15, 15] (one per bsum)
        __m512i scale_idx[4];
        for (int j = 0; j < 4; j++) scale_idx[j] = scale_pair(2 * j, 2 * j + 1);
        const __m256i min_idx = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
        for (int64_t i = 0; i < n / QK_K; i++) {
            const __m512i scales_mins = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(unpack_scales_mins(x[i].scales)));
            // 64 quants in activation order: sub-block 2j's low nibbles, then 2j+1's high ones
            __m512i w[4], s[4];
            for (int j = 0; j < 4; j++) {
                const __m256i bits = load256(x[i].qs + 32 * j);
                w[j] = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(bits), _mm256_srli_epi16(bits, 4), 1), m4);
                s[j] = _mm512_permutexvar_epi16(scale_idx[j], scales_mins);
            }
            const __m256i mins = _mm256_permutexvar_epi16(min_idx, _mm512_castsi512_si256(scales_mins));
            const __m512 dx = _mm512_set1_ps(half_to_float(x[i].d));
            const __m256 dmin = _mm256_set1_ps(half_to_float(x[i].dmin));
            __m512i sumi[NR];
            for (int r = 0; r < NR; r++) sumi[r] = _mm512_setzero_si512();
            for (int j = 0; j < 4; j++)
                for (int r = 0; r < NR; r++)
                    sumi[r] = _mm512_dpwssd_epi32(sumi[r], _mm512_maddubs_epi16(w[j], load512(y[r][i].qs + 64 * j)), s[j]);
            for (int r = 0; r < NR; r++) {
                const block_q8_K& b = y[r][i];
                const __m512 bd = _mm512_set1_ps(b.d);
                acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi[r]), bd), dx, acc[r]);
                const __m256i summs = _mm256_madd_epi16(load256(b.bsums), mins);
                acc_m[r] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(summs), _mm512_castps512_ps256(bd)), dmin, acc_m[r]);
            }
        }
        for (int r = 0; r < NR; r++) out[r] = _mm512_reduce_add_ps(acc[r]) - hsum(acc_m[r]);
    }
};

// Q6_K: per 128-element half, ql holds 64 bytes (low nibbles: elements 0..63, high
// nibbles: 64..127) and qh 32 bytes whose 2-bit fields 0, 1, 2, 3 top up elements
// l, l+32, l+64, l+96. Scales are signed 8-bit, one per 16 elements, like bsums.
struct Q6K {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        const auto* x = static_cast<const block_q6_K*>(w);
        const block_q8_K* y[NR];
        __m512 acc[NR];
        for (int r = 0; r < NR; r++) y[r] = static_cast<const block_q8_K*>(a[r]), acc[r] = _mm512_setzero_ps();
        const __m512i m4 = _mm512_set1_epi8(0xF), m2 = _mm512_set1_epi8(0x30);
        const __m512i shl_lo = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);   // fields 0, 1 to bits 4-5
        const __m512i shr_hi = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);   // fields 2, 3
        const int64_t k1 = 0x0001000100010001;
        const __m512i scale_lane = _mm512_setr_epi64(0, 0, k1, k1, 2 * k1, 2 * k1, 3 * k1, 3 * k1);  // i/8 for lane i
        for (int64_t i = 0; i < n / QK_K; i++) {
            // 16-bit scales, each repeated for its 8 lanes of 16-bit pair sums
            const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales))));
            __m512i w[4], s[4];
            for (int half = 0; half < 2; half++) {
                const __m512i l = load512(x[i].ql + 64 * half);
                const __m256i h256 = load256(x[i].qh + 32 * half);
                const __m512i h = _mm512_inserti64x4(_mm512_castsi256_si512(h256), h256, 1);
                w[2 * half] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(h, shl_lo), m2));
                w[2 * half + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                                  _mm512_and_si512(_mm512_srlv_epi16(h, shr_hi), m2));
            }
            for (int g = 0; g < 4; g++)  // group g: elements 64g..64g+63, 16-bit lane i takes scale 4g + i/8
                s[g] = _mm512_permutexvar_epi16(_mm512_add_epi16(scale_lane, _mm512_set1_epi16(static_cast<int16_t>(4 * g))), sc16);
            const __m256i sc256 = _mm512_castsi512_si256(sc16);
            const __m512 dx = _mm512_set1_ps(half_to_float(x[i].d));
            for (int r = 0; r < NR; r++) {
                const block_q8_K& b = y[r][i];
                __m512i sumi = _mm512_setzero_si512();
                for (int g = 0; g < 4; g++) sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(w[g], load512(b.qs + 64 * g)), s[g]);
                // the -32 offset: -32 · Σ scale_j · bsum_j
                const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(load256(b.bsums), sc256), 5);
                sumi = _mm512_sub_epi32(sumi, _mm512_zextsi256_si512(off));
                acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(b.d)), dx, acc[r]);
            }
        }
        for (int r = 0; r < NR; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
    }
};

void add_k_quant_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_K)] = {DType::Q8_K, vec_dot_of<Q4K>, vec_dot_rows_of<Q4K>};
    t.weight[static_cast<int>(DType::Q6_K)] = {DType::Q8_K, vec_dot_of<Q6K>, vec_dot_rows_of<Q6K>};
}

}  // namespace lmx::kernels::avx512
