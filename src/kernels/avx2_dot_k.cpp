// AVX2 dot products of Q4_K and Q6_K with Q8_K activations (ggml's scheme: maddubs of
// the unsigned quants with the activations, then madd with the 16-bit sub-block scales),
// for one or several activation rows.
#include "kernels/avx2.hpp"
#include "kernels/kernels.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx2 {

// Each kernel runs one weight row against NR activation rows: the scales and unpacked
// quants of a super-block are shared, each row's arithmetic is the one-row kernel's
// (vec_dot is the NR = 1 case), so batching never changes a result.
struct Q4K {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        const auto* x = static_cast<const block_q4_K*>(w);
        const block_q8_K* y[NR];
        __m256 acc[NR];
        float acc_m[NR];
        for (int r = 0; r < NR; r++) y[r] = static_cast<const block_q8_K*>(a[r]), acc[r] = _mm256_setzero_ps(), acc_m[r] = 0;
        const __m256i m4 = _mm256_set1_epi8(0xF);
        for (int64_t i = 0; i < n / QK_K; i++) {
            uint8_t sc[8], mn[8];
            for (int j = 0; j < 8; j++) get_scale_min_k4(j, x[i].scales, &sc[j], &mn[j]);
            const float dx = half_to_float(x[i].d), dmin = half_to_float(x[i].dmin);
            __m256i sumi[NR];
            for (int r = 0; r < NR; r++) {
                int summs = 0;
                for (int j = 0; j < 8; j++) summs += mn[j] * (y[r][i].bsums[2 * j] + y[r][i].bsums[2 * j + 1]);
                acc_m[r] += y[r][i].d * dmin * static_cast<float>(summs);
                sumi[r] = _mm256_setzero_si256();
            }
            const uint8_t* q4 = x[i].qs;
            for (int j = 0; j < QK_K / 64; j++, q4 += 32) {  // 32 bytes = 64 quants, 2 scales
                const __m256i bits = load256(q4);
                const __m256i wlo = _mm256_and_si256(bits, m4), whi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
                const __m256i slo = _mm256_set1_epi16(sc[2 * j]), shi = _mm256_set1_epi16(sc[2 * j + 1]);
                for (int r = 0; r < NR; r++) {
                    const int8_t* q8 = y[r][i].qs + 64 * j;
                    const __m256i lo = _mm256_maddubs_epi16(wlo, load256(q8));
                    const __m256i hi = _mm256_maddubs_epi16(whi, load256(q8 + 32));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(lo, slo));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(hi, shi));
                }
            }
            for (int r = 0; r < NR; r++) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y[r][i].d * dx), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
        }
        for (int r = 0; r < NR; r++) out[r] = hsum(acc[r]) - acc_m[r];
    }
};

struct Q6K {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        const auto* x = static_cast<const block_q6_K*>(w);
        const block_q8_K* y[NR];
        __m256 acc[NR];
        for (int r = 0; r < NR; r++) y[r] = static_cast<const block_q8_K*>(a[r]), acc[r] = _mm256_setzero_ps();
        const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(0x30), k32 = _mm256_set1_epi8(32);
        for (int64_t i = 0; i < n / QK_K; i++) {
            const uint8_t* ql = x[i].ql;
            const uint8_t* qh = x[i].qh;
            __m256i sumi[NR];
            for (int r = 0; r < NR; r++) sumi[r] = _mm256_setzero_si256();
            for (int half = 0; half < 2; half++, ql += 64, qh += 32) {
                const __m256i l0 = load256(ql), l1 = load256(ql + 32), h = load256(qh);
                // 4 groups of 32 six-bit quants (0..63), low nibble + two high bits each
                const __m256i q[4] = {
                    _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m2)),
                    _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m2)),
                };
                for (int g = 0; g < 4; g++) {
                    const int s = half * 8 + 2 * g;  // scales of elements 0..15 and 16..31 of the group
                    const __m256i scales = _mm256_setr_m128i(_mm_set1_epi16(x[i].scales[s]), _mm_set1_epi16(x[i].scales[s + 1]));
                    for (int r = 0; r < NR; r++) {
                        const __m256i a8 = load256(y[r][i].qs + 128 * half + 32 * g);
                        // (q - 32) * a = q * a - 32 * a, both in range of maddubs' int16 pairs
                        const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q[g], a8), _mm256_maddubs_epi16(k32, a8));
                        sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(p, scales));
                    }
                }
            }
            const float dx = half_to_float(x[i].d);
            for (int r = 0; r < NR; r++) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y[r][i].d * dx), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
        }
        for (int r = 0; r < NR; r++) out[r] = hsum(acc[r]);
    }
};

void add_k_quant_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_K)] = {DType::Q8_K, vec_dot_of<Q4K>, vec_dot_rows_of<Q4K>};
    t.weight[static_cast<int>(DType::Q6_K)] = {DType::Q8_K, vec_dot_of<Q6K>, vec_dot_rows_of<Q6K>};
}

}  // namespace lmx::kernels::avx2
