// AVX2 + FMA kernels of the ONNX matrix products (contracts in kernels.hpp).
#include <algorithm>

#include "kernels/avx2.hpp"
#include "kernels/kernels.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx2.hpp"

namespace lmx::kernels::avx2 {

namespace {

// The k range [k0, k1) of an R-row × V-vector register tile of y at column c: the tile is
// loaded (or zeroed on the first k block), each b row's V vectors are loaded once for
// all R rows, and the tile stored back. Masked: one vector, the lanes in `mask` only.
template <int R, int V, bool Masked = false>
void tile(int64_t k0, int64_t k1, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c,
          __m256i mask) {
    static_assert(!Masked || V == 1);
    const auto load = [&](const float* p) { return Masked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p); };
    __m256 acc[R][V];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) acc[r][v] = k0 == 0 ? _mm256_setzero_ps() : load(y + r * n + c + 8 * v);
    for (int64_t i = k0; i < k1; i++) {
        __m256 bv[V];
        for (int v = 0; v < V; v++) bv[v] = load(b + i * n + c + 8 * v);
        for (int r = 0; r < R; r++) {
            const __m256 ar = _mm256_broadcast_ss(a + r * k + i);
            for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) {
            if constexpr (Masked) _mm256_maskstore_ps(y + r * n + c, mask, acc[r][v]);
            else _mm256_storeu_ps(y + r * n + c + 8 * v, acc[r][v]);
        }
}

// Columns [c0, c1) of R rows over k block [k0, k1): tiles of 32 columns for up to two rows
// (4 accumulators keep the FMA latency hidden), 16 for more (8 accumulators plus the b and
// broadcast registers fit the 16 AVX2 registers), then single vectors and a masked tail.
template <int R>
void columns(int64_t k0, int64_t k1, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1) {
    constexpr int V = R <= 2 ? 4 : 2;
    const __m256i all = _mm256_set1_epi32(-1);  // unmasked tiles ignore it
    int64_t c = c0;
    if constexpr (R == 1)  // decoding: 96 columns, b read in longer pieces (avx512_matmul.cpp)
        for (; c + 96 <= c1; c += 96) tile<1, 12>(k0, k1, k, n, a, b, y, c, all);
    for (; c + 8 * V <= c1; c += 8 * V) tile<R, V>(k0, k1, k, n, a, b, y, c, all);
    for (; c + 8 <= c1; c += 8) tile<R, 1>(k0, k1, k, n, a, b, y, c, all);
    if (c < c1) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        tile<R, 1, true>(k0, k1, k, n, a, b, y, c, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(c1 - c)), lane));
    }
}

// 16 weights (8 bytes, low nibble first) minus the zero point, as signed bytes in order.
inline __m128i nibbles_minus_zero(const uint8_t* p, __m128i z) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    const __m128i m = _mm_set1_epi8(0x0F);
    return _mm_sub_epi8(_mm_unpacklo_epi8(_mm_and_si128(bytes, m), _mm_and_si128(_mm_srli_epi16(bytes, 4), m)), z);
}

// 16 weights of each row's dot at offset i: the weights (q - z) · s as floats, then one FMA
// per row and vector.
template <int R>
inline void u4_chunk(const uint8_t* p, __m128i z, __m256 s, const float* const* a, int64_t i, __m256 (&acc)[R][2]) {
    const __m128i e = nibbles_minus_zero(p, z);
    const __m256 w0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e)), s);
    const __m256 w1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e, 8))), s);
    for (int r = 0; r < R; r++) {
        acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(a[r] + i), acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(a[r] + i + 8), acc[r][1]);
    }
}

template <int R>
void dot_u4_rows(int64_t k, int64_t block_size, const uint8_t* q, const float* scales, const uint8_t* zp, const float* const* a,
                 float* out) {
    // Two accumulator sets alternate over 16-weight chunks for one or two rows, so each
    // FMA chain waits on its previous result every other chunk only; more rows have
    // enough independent chains already (and no registers for a second set).
    constexpr bool kTwoSets = R <= 2;
    __m256 acc0[R][2], acc1[R][2];
    for (int r = 0; r < R; r++) acc0[r][0] = acc0[r][1] = acc1[r][0] = acc1[r][1] = _mm256_setzero_ps();
    auto& second = kTwoSets ? acc1 : acc0;
    float tail[R] = {};
    for (int64_t k0 = 0, blk = 0; k0 < k; k0 += block_size, blk++) {
        const int zi = zp ? (zp[blk / 2] >> (blk % 2 * 4)) & 0xF : 8;
        const __m128i z = _mm_set1_epi8(static_cast<char>(zi));
        const __m256 s = _mm256_set1_ps(scales[blk]);
        const uint8_t* qb = q + blk * (block_size / 2);
        const int64_t len = std::min(block_size, k - k0);
        int64_t i = 0;
        for (; i + 32 <= len; i += 32) {
            u4_chunk<R>(qb + i / 2, z, s, a, k0 + i, acc0);
            u4_chunk<R>(qb + i / 2 + 8, z, s, a, k0 + i + 16, second);
        }
        if (i + 16 <= len) {
            u4_chunk<R>(qb + i / 2, z, s, a, k0 + i, acc0);
            i += 16;
        }
        for (; i < len; i++) {  // the end of a partial last block
            const float w = (static_cast<float>((qb[i / 2] >> (i % 2 * 4)) & 0xF) - static_cast<float>(zi)) * scales[blk];
            for (int r = 0; r < R; r++) tail[r] += w * a[r][k0 + i];
        }
    }
    for (int r = 0; r < R; r++) {
        __m256 sum = _mm256_add_ps(acc0[r][0], acc0[r][1]);
        if constexpr (kTwoSets) sum = _mm256_add_ps(sum, _mm256_add_ps(acc1[r][0], acc1[r][1]));
        out[r] = hsum(sum) + tail[r];
    }
}

// An R-row tile of y over one panel (two vectors; columns from `cols` on are neither read
// nor written), k range [k0, k1): 2R accumulators, 6 rows using 12 of the 16 registers.
template <int R>
void panel_tile(int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* w, float* y, int64_t ldy, int64_t cols,
                const float* bias, bool gelu) {
    const auto mask = [&](int v) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(cols - 8 * v)), lane);
    };
    const __m256i m[2] = {mask(0), mask(1)};
    __m256 acc[R][2];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < 2; v++) acc[r][v] = k0 == 0 ? _mm256_setzero_ps() : _mm256_maskload_ps(y + r * ldy + 8 * v, m[v]);
    for (int64_t i = k0; i < k1; i++) {
        const __m256 b0 = _mm256_loadu_ps(w + i * kF32Panel), b1 = _mm256_loadu_ps(w + i * kF32Panel + 8);
        for (int r = 0; r < R; r++) {
            const __m256 ar = _mm256_broadcast_ss(a + r * lda + i);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    for (int v = 0; v < 2; v++) {
        const __m256 bv = k1 == k && bias ? _mm256_maskload_ps(bias + 8 * v, m[v]) : _mm256_setzero_ps();
        for (int r = 0; r < R; r++) {
            if (k1 == k) acc[r][v] = _mm256_add_ps(acc[r][v], bv);
            if (k1 == k && gelu) acc[r][v] = gelu_ps(acc[r][v]);
            _mm256_maskstore_ps(y + r * ldy + 8 * v, m[v], acc[r][v]);
        }
    }
}

}  // namespace

void rows_times_matrix_f32(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1) {
    rows_times_matrix_blocked(m, k, c0, c1, a, y, n, [&](auto nr, int64_t k0, int64_t k1, const float* a_rows, float* y_rows, int64_t cc0, int64_t cc1) {
        columns<decltype(nr)::value>(k0, k1, k, n, a_rows, b, y_rows, cc0, cc1);
    });
}

// One weight row at a time: the 16 AVX2 registers hold the accumulators of four activation
// rows, not of several weight rows too.
void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out) {
    for (int c = 0; c < nw; c++) {
        float row[kMaxDotRows];
        with_row_count(nr, [&](auto rows) {
            dot_u4_rows<decltype(rows)::value>(k, block_size, w.q + c * w.q_stride, w.scales + c * w.scales_stride,
                                               w.zp ? w.zp + c * w.zp_stride : nullptr, a, row);
        });
        for (int r = 0; r < nr; r++) out[r * nw + c] = row[r];
    }
}

// One panel at a time, every row of a over it.
void gemm_f32_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels, int64_t cols,
                     float* y, int64_t ldy, const float* bias, bool gelu) {
    for (int64_t c = 0; c < cols; c += kF32Panel) {
        const float* w = panels + c * k;
        const float* b = bias ? bias + c : nullptr;
        int64_t r = 0;
        for (; r + 6 <= m; r += 6) panel_tile<6>(k, k0, k1, a + r * lda, lda, w, y + r * ldy + c, ldy, cols - c, b, gelu);
        for (; r < m; r++) panel_tile<1>(k, k0, k1, a + r * lda, lda, w, y + r * ldy + c, ldy, cols - c, b, gelu);
    }
}

}  // namespace lmx::kernels::avx2
