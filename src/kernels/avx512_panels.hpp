#pragma once
// What the AVX-512 GEMMs over packed panels (f32 and bf16, kernels.hpp) share: the walk
// over tiles of y and a tile's first and last steps. Include only from files compiled
// with the AVX-512 flags, after kernels/avx512_intrinsics.hpp.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/kernels.hpp"
#include "kernels/simd_avx512.hpp"

namespace lmx::kernels::avx512 {

// Tiles of 12 rows × 2 panels: 24 of the 32 registers accumulate, 24 multiply-adds a step
// against 2 weight loads.
constexpr int kPanelRows = 12;

// f(std::integral_constant<int, n>) for n in 1..kPanelRows.
template <int N = 1, class F>
void with_panel_rows(int64_t n, F&& f) {
    if constexpr (N < kPanelRows) {
        if (n != N) return with_panel_rows<N + 1>(n, f);
    }
    f(std::integral_constant<int, N>{});
}

// tile(rows, panels, r, c, mask) for every tile of rows [0, m) × columns [0, cols): two
// panels (32 columns) at a time, every row over them while their k range is in L1, then
// the next two. rows and panels are integral_constants; mask[p] selects panel p's lanes
// inside cols.
template <class Tile>
void for_panel_tiles(int64_t m, int64_t cols, Tile&& tile) {
    for (int64_t c = 0; c < cols; c += 2 * kF32Panel) {
        const int64_t width = std::min<int64_t>(2 * kF32Panel, cols - c);
        const auto lanes = [](int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1); };
        const __mmask16 mask[2] = {lanes(width), lanes(width - 16)};
        const auto rows = [&](auto panels) {
            int64_t r = 0;
            for (; r + kPanelRows <= m; r += kPanelRows) tile(std::integral_constant<int, kPanelRows>{}, panels, r, c, mask);
            if (r < m) with_panel_rows(m - r, [&](auto n) { tile(n, panels, r, c, mask); });
        };
        if (width > 16) rows(std::integral_constant<int, 2>{});
        else rows(std::integral_constant<int, 1>{});
    }
}

// A tile's accumulators: zero on the first k range, else the partial sums in y.
template <int R, int P>
void load_tile(__m512 (&acc)[R][P], bool first, const float* y, int64_t ldy, const __mmask16* mask) {
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) acc[r][p] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask[p], y + r * ldy + 16 * p);
}

// Stores them, after the last k range with the bias added and GELU applied.
template <int R, int P>
void store_tile(__m512 (&acc)[R][P], bool last, const float* bias, bool gelu, float* y, int64_t ldy, const __mmask16* mask) {
    for (int p = 0; p < P; p++) {
        const __m512 bv = last && bias ? _mm512_maskz_loadu_ps(mask[p], bias + 16 * p) : _mm512_setzero_ps();
        for (int r = 0; r < R; r++) {
            if (last) acc[r][p] = _mm512_add_ps(acc[r][p], bv);
            if (last && gelu) acc[r][p] = gelu_ps(acc[r][p]);
            _mm512_mask_storeu_ps(y + r * ldy + 16 * p, mask[p], acc[r][p]);
        }
    }
}

}  // namespace lmx::kernels::avx512
