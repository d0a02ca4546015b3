// AVX-512 VNNI MatMulNBits dot at accuracy_level 4 (kernels.hpp: DotU4Q8Fn): 4-bit weights
// times int8 activations. A weight row's 16 bytes per 32 values hold them as low and high
// nibbles, the order quantize_u4_q8 stores activations in, so two chunks of 32 are one
// unpack and one vpdpbusd (64 products). Chunks go in groups of eight: their weight
// scales and zero points are one vector each, each row's scales and sums another, and
// the zero-point terms -z·sw·(d·Σq) one FMA per group.

#include "kernels/avx512_intrinsics.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/kernels.hpp"
#include "kernels/simd_avx512.hpp"

namespace lmx::kernels::avx512 {

namespace {

// Scales and zero points of chunks [c0, c0 + nc) (nc <= 8; lanes past nc are 0).
[[gnu::always_inline]] inline void chunk_scales(const U4Weights& w, int64_t block_size, int64_t c0, int nc, __m256* sw, __m256* z) {
    const __mmask8 m = static_cast<__mmask8>((1u << nc) - 1);
    if (block_size == 32) {  // one block a chunk: 8 scales and 4 zero-point bytes
        *sw = _mm256_maskz_loadu_ps(m, w.scales + c0);
        if (!w.zp) {
            *z = _mm256_set1_ps(8.0f);
            return;
        }
        uint32_t bytes = 0;
        if (nc == 8)
            std::memcpy(&bytes, w.zp + c0 / 2, 4);
        else
            for (int i = 0; i < (nc + 1) / 2; i++) bytes |= uint32_t{w.zp[c0 / 2 + i]} << (8 * i);
        const __m128i dup = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(bytes)), _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0));
        const __m256i nib = _mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(dup), _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)),
                                             _mm256_set1_epi32(0xF));
        *z = _mm256_cvtepi32_ps(nib);
        return;
    }
    alignas(32) float s[8] = {}, zs[8] = {};
    for (int i = 0; i < nc; i++) {
        const int64_t blk = (c0 + i) * 32 / block_size;
        s[i] = w.scales[blk];
        zs[i] = w.zp ? static_cast<float>((w.zp[blk / 2] >> (blk % 2 * 4)) & 0xF) : 8.0f;
    }
    *sw = _mm256_load_ps(s);
    *z = _mm256_load_ps(zs);
}

// Weight rows [0, nw) against NR activation rows; per weight row the one-row arithmetic.
template <int NR>
void u4_q8_rows(int64_t k, int64_t block_size, const U4Weights& w, int64_t nw, const void* const* a, float* out) {
    const int64_t chunks = u4_q8_chunks(k);
    const int8_t* qa[NR];
    const float *da[NR], *sa[NR];
    for (int r = 0; r < NR; r++) {
        qa[r] = static_cast<const int8_t*>(a[r]);
        da[r] = reinterpret_cast<const float*>(qa[r] + 32 * chunks);
        sa[r] = da[r] + chunks;
    }
    __m512i spread[4];  // [2p x16 lanes of chunk 2p's scale | 2p+1's]
    for (int p = 0; p < 4; p++)
        spread[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * p)), _mm256_set1_epi32(2 * p + 1), 1);
    for (int64_t col = 0; col < nw; col++) {
        const U4Weights wr{w.q + col * w.q_stride, w.scales + col * w.scales_stride, w.zp ? w.zp + col * w.zp_stride : nullptr, 0, 0, 0};
        if (col + 4 < nw) {  // rows a few ahead: their scales are a separate stream the hardware prefetcher misses
            _mm_prefetch(reinterpret_cast<const char*>(w.scales + (col + 4) * w.scales_stride), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(w.q + (col + 4) * w.q_stride), _MM_HINT_T0);
        }
        __m512 acc[NR];
        __m256 corr[NR];
        for (int r = 0; r < NR; r++) acc[r] = _mm512_setzero_ps(), corr[r] = _mm256_setzero_ps();
        for (int64_t c0 = 0; c0 < chunks; c0 += 8) {
            const int nc = static_cast<int>(std::min<int64_t>(8, chunks - c0)), pairs = (nc + 1) / 2;
            const __mmask8 m = static_cast<__mmask8>((1u << nc) - 1);
            __m256 sw, z;
            chunk_scales(wr, block_size, c0, nc, &sw, &z);
            const __m256 zsw = _mm256_mul_ps(z, sw);
            __m512i wq[4];
            for (int p = 0; p < pairs; p++) {  // an odd last chunk pairs with itself; its activations' upper half reads as 0
                const int64_t c = c0 + 2 * p;
                wq[p] = unpack_nibble_pair(wr.q + 16 * c, wr.q + 16 * (2 * p + 1 < nc ? c + 1 : c));
            }
            for (int r = 0; r < NR; r++) {
                const __m512 f = _mm512_castps256_ps512(_mm256_mul_ps(sw, _mm256_maskz_loadu_ps(m, da[r] + c0)));
                corr[r] = _mm256_fmadd_ps(zsw, _mm256_maskz_loadu_ps(m, sa[r] + c0), corr[r]);
                for (int p = 0; p < pairs; p++) {
                    const int8_t* q = qa[r] + 32 * (c0 + 2 * p);
                    const __m512i x = 2 * p + 1 < nc ? _mm512_loadu_si512(q) : _mm512_maskz_loadu_epi8(0xFFFFFFFFull, q);
                    const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq[p], x);
                    acc[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread[p], f), _mm512_cvtepi32_ps(dot), acc[r]);
                }
            }
        }
        for (int r = 0; r < NR; r++) out[r * nw + col] = _mm512_reduce_add_ps(acc[r]) - avx2::hsum(corr[r]);
    }
}

}  // namespace

void dot_u4_q8(int64_t k, int64_t block_size, const U4Weights& w, int64_t nw, const void* const* a, int nr, float* out) {
    with_row_count(nr, [&](auto rows) { u4_q8_rows<decltype(rows)::value>(k, block_size, w, nw, a, out); });
}

}  // namespace lmx::kernels::avx512
