// AVX-512 kernels of the ONNX matrix products (contracts in kernels.hpp): the AVX2 ones
// with 16 floats a vector, 32 registers for bigger tiles and masked loads for the tails,
// and for prefill a 4-bit tile of several weight rows (dot_u4_tile), which needs those
// registers.

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

// 16 nibble pairs as 32 bytes 0..15 in weight order, in two halves.
inline void nibbles(__m128i bytes, __m128i& e0, __m128i& e1) {
    const __m128i m = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(bytes, m), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), m);
    e0 = _mm_unpacklo_epi8(lo, hi);
    e1 = _mm_unpackhi_epi8(lo, hi);
}

// A block's 16 possible weights, (q - z) · s for q = 0..15 (the scalar reference's
// arithmetic), and 16 of them picked by their nibbles: a permute instead of the
// conversion and multiply, which compete with the FMAs for the same pipes.
inline __m512 block_lut(int z, float s) {
    const __m512 q = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_mul_ps(_mm512_sub_ps(q, _mm512_set1_ps(static_cast<float>(z))), _mm512_set1_ps(s));
}

inline __m512 lookup(__m128i e, __m512 lut) { return _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(e), lut); }

// Weights go 32 at a time (16 bytes) through the block's table, then one FMA per row and 16
// weights into two accumulator sets, so each FMA chain waits on its own result only every
// other vector.
template <int R>
void dot_u4_rows(int64_t k, int64_t block_size, const uint8_t* q, const float* scales, const uint8_t* zp, const float* const* a,
                 float* out) {
    const float* rows[R];
    __m512 acc0[R], acc1[R];
    for (int r = 0; r < R; r++) {
        rows[r] = a[r];
        acc0[r] = acc1[r] = _mm512_setzero_ps();
    }
    float tail[R] = {};
    for (int64_t k0 = 0, blk = 0; k0 < k; k0 += block_size, blk++) {
        const int zi = zp ? (zp[blk / 2] >> (blk % 2 * 4)) & 0xF : 8;
        const __m512 lut = block_lut(zi, scales[blk]);
        const uint8_t* qb = q + blk * (block_size / 2);
        const int64_t len = std::min(block_size, k - k0);
        int64_t i = 0;
        __m128i e0, e1;
        for (; i + 32 <= len; i += 32) {
            nibbles(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb + i / 2)), e0, e1);
            const __m512 w0 = lookup(e0, lut), w1 = lookup(e1, lut);
            for (int r = 0; r < R; r++) {
                acc0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(rows[r] + k0 + i), acc0[r]);
                acc1[r] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(rows[r] + k0 + i + 16), acc1[r]);
            }
        }
        if (i + 16 <= len) {  // a block of 16, or the end of a partial last block
            nibbles(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qb + i / 2)), e0, e1);
            const __m512 w0 = lookup(e0, lut);
            for (int r = 0; r < R; r++) acc0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(rows[r] + k0 + i), acc0[r]);
            i += 16;
        }
        for (; i < len; i++) {  // the end of a partial last block
            const float w = (static_cast<float>((qb[i / 2] >> (i % 2 * 4)) & 0xF) - static_cast<float>(zi)) * scales[blk];
            for (int r = 0; r < R; r++) tail[r] += w * rows[r][k0 + i];
        }
    }
    for (int r = 0; r < R; r++) out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r])) + tail[r];
}

// NR activation rows × NW weight rows (prefill): NR·NW accumulators; each 16 weights are
// converted once for all activation rows and each 16 activations loaded once for all
// weight rows, so the activations stream from cache at a quarter of the one-row rate.
template <int NR, int NW>
void dot_u4_tile(int64_t k, int64_t block_size, const U4Weights& w, const float* const* a, float* out) {
    const float* rows[NR];
    for (int r = 0; r < NR; r++) rows[r] = a[r];
    __m512 acc[NR][NW];
    float tail[NR][NW] = {};
    for (auto& row : acc)
        for (__m512& v : row) v = _mm512_setzero_ps();
    for (int64_t k0 = 0, blk = 0; k0 < k; k0 += block_size, blk++) {
        __m512 lut[NW];  // the block's 16 weight values, (q - z) · s, indexed by q
        int zi[NW];
        for (int c = 0; c < NW; c++) {
            zi[c] = w.zp ? (w.zp[c * w.zp_stride + blk / 2] >> (blk % 2 * 4)) & 0xF : 8;
            lut[c] = block_lut(zi[c], w.scales[c * w.scales_stride + blk]);
        }
        const uint8_t* qb = w.q + blk * (block_size / 2);
        const int64_t len = std::min(block_size, k - k0);
        int64_t i = 0;
        __m128i e0, e1;
        for (; i + 32 <= len; i += 32) {
            __m512 w0[NW], w1[NW];
            for (int c = 0; c < NW; c++) {
                nibbles(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb + c * w.q_stride + i / 2)), e0, e1);
                w0[c] = lookup(e0, lut[c]);
                w1[c] = lookup(e1, lut[c]);
            }
            for (int r = 0; r < NR; r++) {
                const __m512 x0 = _mm512_loadu_ps(rows[r] + k0 + i), x1 = _mm512_loadu_ps(rows[r] + k0 + i + 16);
                for (int c = 0; c < NW; c++) acc[r][c] = _mm512_fmadd_ps(w1[c], x1, _mm512_fmadd_ps(w0[c], x0, acc[r][c]));
            }
        }
        if (i + 16 <= len) {  // a block of 16, or the end of a partial last block
            __m512 w0[NW];
            for (int c = 0; c < NW; c++) {
                nibbles(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qb + c * w.q_stride + i / 2)), e0, e1);
                w0[c] = lookup(e0, lut[c]);
            }
            for (int r = 0; r < NR; r++) {
                const __m512 x0 = _mm512_loadu_ps(rows[r] + k0 + i);
                for (int c = 0; c < NW; c++) acc[r][c] = _mm512_fmadd_ps(w0[c], x0, acc[r][c]);
            }
            i += 16;
        }
        for (; i < len; i++)  // the end of a partial last block
            for (int c = 0; c < NW; c++) {
                const uint8_t byte = qb[c * w.q_stride + i / 2];
                const float wv = (static_cast<float>((byte >> (i % 2 * 4)) & 0xF) - static_cast<float>(zi[c])) * w.scales[c * w.scales_stride + blk];
                for (int r = 0; r < NR; r++) tail[r][c] += wv * rows[r][k0 + i];
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

// One weight row (decoding) takes dot_u4_rows, whose two accumulator sets keep the FMA
// chains of a single activation row busy; several take dot_u4_tile.
void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out) {
    if (nw == 1) {
        with_row_count(nr, [&](auto rows) { dot_u4_rows<decltype(rows)::value>(k, block_size, w.q, w.scales, w.zp, a, out); });
        return;
    }
    with_row_count(nr, [&](auto rows) {
        with_row_count(nw, [&](auto cols) { dot_u4_tile<decltype(rows)::value, decltype(cols)::value>(k, block_size, w, a, out); });
    });
}

}  // namespace lmx::kernels::avx512
