// AVX-512 kernels of the ONNX matrix products (contracts in kernels.hpp): the AVX2 ones
// with 16 floats a vector, 32 registers for bigger tiles and masked loads for the tails,
// and a 4-bit tile of up to four weight rows by four activation rows (dot_u4_tile), which
// needs those registers.

#include "kernels/avx512_intrinsics.hpp"

#include <algorithm>

#include "kernels/kernels.hpp"
#include "kernels/avx512_panels.hpp"

namespace lmx::kernels::avx512 {

namespace {

// The k range [k0, k1) of an R-row × V-vector register tile of y at column c (see
// avx2_matmul.cpp); `mask` selects the lanes of every vector (all but a tail's: ~0).
template <int R, int V>
void tile(int64_t k0, int64_t k1, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c, __mmask16 mask) {
    __m512 acc[R][V];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) acc[r][v] = k0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, y + r * n + c + 16 * v);
    for (int64_t i = k0; i < k1; i++) {
        __m512 bv[V];
        for (int v = 0; v < V; v++) bv[v] = _mm512_maskz_loadu_ps(mask, b + i * n + c + 16 * v);
        for (int r = 0; r < R; r++) {
            const __m512 ar = _mm512_set1_ps(a[r * k + i]);
            for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(y + r * n + c + 16 * v, mask, acc[r][v]);
}

// Tiles of 64 columns (R × 4 accumulators); one row (decoding) takes 256 (16), so each
// row of b is read 1 KB at a time, which streams from memory better than a column of
// shorter pieces. Then single vectors and a masked tail.
template <int R>
void columns(int64_t k0, int64_t k1, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1) {
    int64_t c = c0;
    if constexpr (R == 1)
        for (; c + 256 <= c1; c += 256) tile<1, 16>(k0, k1, k, n, a, b, y, c, 0xFFFF);
    for (; c + 64 <= c1; c += 64) tile<R, 4>(k0, k1, k, n, a, b, y, c, 0xFFFF);
    for (; c + 16 <= c1; c += 16) tile<R, 1>(k0, k1, k, n, a, b, y, c, 0xFFFF);
    if (c < c1) tile<R, 1>(k0, k1, k, n, a, b, y, c, static_cast<__mmask16>((1u << (c1 - c)) - 1));
}

// A block's 16 weights of 16 bytes, each byte widened to a lane: its low nibble is an
// even-numbered weight, its high nibble the odd one after it, so the activations are split
// the same way (evens and odds) and the weights need one shuffle per 32 rather than the
// six of interleaving them. A weight is (q − z) · s as the scalar reference computes it,
// or with the block's offset −z · s (U4Weights::offsets) the fused q · s + offset.
template <bool Offsets>
struct U4Block {
    __m512i z;
    __m512 s, off;
    U4Block(int zi, float scale, float offset)
        : z(_mm512_set1_epi32(zi)), s(_mm512_set1_ps(scale)), off(_mm512_set1_ps(offset)) {}
    __m512 weights(__m512i q, __mmask16 lanes) const {
        if constexpr (Offsets) return _mm512_maskz_fmadd_ps(lanes, _mm512_cvtepi32_ps(q), s, off);
        else return _mm512_maskz_mul_ps(lanes, _mm512_cvtepi32_ps(_mm512_sub_epi32(q, z)), s);
    }
    void pairs(__m128i bytes, __m512& even, __m512& odd, __mmask16 lanes = 0xFFFF) const {
        const __m512i d = _mm512_cvtepu8_epi32(bytes);
        even = weights(_mm512_and_si512(d, _mm512_set1_epi32(0xF)), lanes);
        odd = weights(_mm512_srli_epi32(d, 4), lanes);
    }
};

// 32 activations as their 16 even-numbered and 16 odd-numbered values.
inline void split_pairs(const float* x, __m512& even, __m512& odd) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
    const __m512 lo = _mm512_loadu_ps(x), hi = _mm512_loadu_ps(x + 16);
    even = _mm512_permutex2var_ps(lo, ie, hi);
    odd = _mm512_permutex2var_ps(lo, io, hi);
}

// NR activation rows × NW weight rows: NR·NW accumulators; each 32 weights are converted
// once for all activation rows and each 32 activations split once for all weight rows.
// Blocks in chunks of 32, then a 16 (a block of 16, or the end of a partial last block:
// the upper lanes masked off), then single weights.
template <int NR, int NW, bool Offsets>
void dot_u4_tile(int64_t k, int64_t block_size, const U4Weights& w, const float* const* a, float* out) {
    __m512 acc[NR][NW];
    float tail[NR][NW] = {};
    for (auto& row : acc)
        for (__m512& v : row) v = _mm512_setzero_ps();
    for (int64_t k0 = 0, blk = 0; k0 < k; k0 += block_size, blk++) {
        float sc[NW], off[NW] = {};
        int zi[NW] = {};
        for (int c = 0; c < NW; c++) {
            sc[c] = w.scales[c * w.scales_stride + blk];
            if constexpr (Offsets) off[c] = w.offsets[c * w.scales_stride + blk];
            else zi[c] = w.zp ? (w.zp[c * w.zp_stride + blk / 2] >> (blk % 2 * 4)) & 0xF : 8;
        }
        const uint8_t* qb = w.q + blk * (block_size / 2);
        const int64_t len = std::min(block_size, k - k0);
        int64_t i = 0;
        for (; i + 32 <= len; i += 32) {
            __m512 xe[NR], xo[NR];
            for (int r = 0; r < NR; r++) split_pairs(a[r] + k0 + i, xe[r], xo[r]);
            for (int c = 0; c < NW; c++) {
                __m512 we, wo;
                // the weights stream from memory: asking 2 KB ahead measured 13-17% faster
                _mm_prefetch(reinterpret_cast<const char*>(qb + c * w.q_stride + i / 2) + 2048, _MM_HINT_T0);
                U4Block<Offsets>(zi[c], sc[c], off[c]).pairs(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb + c * w.q_stride + i / 2)), we, wo);
                for (int r = 0; r < NR; r++) acc[r][c] = _mm512_fmadd_ps(wo, xo[r], _mm512_fmadd_ps(we, xe[r], acc[r][c]));
            }
        }
        if (i + 16 <= len) {
            const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
            __m512 xe[NR], xo[NR];
            for (int r = 0; r < NR; r++) {
                xe[r] = _mm512_permutexvar_ps(ie, _mm512_loadu_ps(a[r] + k0 + i));  // evens, then odds
                xo[r] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(xe[r]), _mm512_castps_si512(xe[r]), 8));
            }
            for (int c = 0; c < NW; c++) {
                __m512 we, wo;
                U4Block<Offsets>(zi[c], sc[c], off[c]).pairs(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qb + c * w.q_stride + i / 2)), we, wo, 0xFF);
                for (int r = 0; r < NR; r++) acc[r][c] = _mm512_fmadd_ps(wo, xo[r], _mm512_fmadd_ps(we, xe[r], acc[r][c]));
            }
            i += 16;
        }
        for (; i < len; i++)  // the end of a partial last block
            for (int c = 0; c < NW; c++) {
                const float q = static_cast<float>((qb[c * w.q_stride + i / 2] >> (i % 2 * 4)) & 0xF);
                const float wv = Offsets ? q * sc[c] + off[c] : (q - static_cast<float>(zi[c])) * sc[c];
                for (int r = 0; r < NR; r++) tail[r][c] += wv * a[r][k0 + i];
            }
    }
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NW; c++) out[r * NW + c] = _mm512_reduce_add_ps(acc[r][c]) + tail[r][c];
}

// gemm_panels's steps in f32: one value of a row of a against 16 weights.
struct F32Step {
    static __m512 load(const float* w) { return _mm512_loadu_ps(w); }
    static __m512 broadcast(float a) { return _mm512_set1_ps(a); }
    static __m512 madd(__m512 acc, __m512 a, __m512 w) { return _mm512_fmadd_ps(a, w, acc); }
};

}  // namespace

void rows_times_matrix_f32(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1) {
    rows_times_matrix_blocked(m, k, c0, c1, a, y, n, [&](auto nr, int64_t k0, int64_t k1, const float* a_rows, float* y_rows, int64_t cc0, int64_t cc1) {
        columns<decltype(nr)::value>(k0, k1, k, n, a_rows, b, y_rows, cc0, cc1);
    });
}

void gemm_f32_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels, int64_t cols,
                     float* y, int64_t ldy, const float* bias, bool gelu) {
    gemm_panels<F32Step>(m, k, k0, k1, a, lda, panels, cols, y, ldy, bias, gelu);
}

void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out) {
    with_row_count(nr, [&](auto rows) {
        with_row_count(nw, [&](auto cols) {
            constexpr int R = decltype(rows)::value, C = decltype(cols)::value;
            if (w.offsets) dot_u4_tile<R, C, true>(k, block_size, w, a, out);
            else dot_u4_tile<R, C, false>(k, block_size, w, a, out);
        });
    });
}

}  // namespace lmx::kernels::avx512
