#pragma once
// The AVX-512 GEMM over packed panels (kernels.hpp), one template for its number formats
// (f32 in avx512_matmul.cpp, bf16 in avx512_bf16.cpp). Include only from files compiled
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

// Rows [0, m) of y over panels of `cols` columns: tiles of two panels (32 columns) at a
// time, every row over them while their k range is in L1, then the next two. Step is the
// number format: Step::load(w) a panel row's 16 lanes, Step::broadcast(a) one step of a
// row of a in every lane, Step::madd(acc, a, w) the multiply-add; k counts steps.
template <int R, int P, class Step, class A, class W>
void panel_tile(int64_t k, int64_t k0, int64_t k1, const A* a, int64_t lda, const W* w, float* y, int64_t ldy, const __mmask16* mask,
                const float* bias, bool gelu) {
    __m512 acc[R][P];
    load_tile(acc, k0 == 0, y, ldy, mask);
    const W* w0 = w + k0 * kF32Panel;
    const W* w1 = w0 + k * kF32Panel;  // the next panel
    for (int64_t i = 0; i < k1 - k0; i++) {
        decltype(Step::load(w0)) b[P];
        b[0] = Step::load(w0 + i * kF32Panel);
        if constexpr (P == 2) b[1] = Step::load(w1 + i * kF32Panel);
        for (int r = 0; r < R; r++) {
            const auto ar = Step::broadcast(a[r * lda + k0 + i]);
            for (int p = 0; p < P; p++) acc[r][p] = Step::madd(acc[r][p], ar, b[p]);
        }
    }
    store_tile(acc, k1 == k, bias, gelu, y, ldy, mask);
}

template <class Step, class A, class W>
void gemm_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const A* a, int64_t lda, const W* panels, int64_t cols, float* y,
                 int64_t ldy, const float* bias, bool gelu) {
    for (int64_t c = 0; c < cols; c += 2 * kF32Panel) {
        const int64_t width = std::min<int64_t>(2 * kF32Panel, cols - c);
        const auto lanes = [](int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1); };
        const __mmask16 mask[2] = {lanes(width), lanes(width - 16)};
        const W* w = panels + c * k;
        const float* b = bias ? bias + c : nullptr;
        const auto rows = [&](auto panels_n) {
            constexpr int P = decltype(panels_n)::value;
            int64_t r = 0;
            for (; r + kPanelRows <= m; r += kPanelRows)
                panel_tile<kPanelRows, P, Step>(k, k0, k1, a + r * lda, lda, w, y + r * ldy + c, ldy, mask, b, gelu);
            if (r < m)
                with_panel_rows(m - r, [&](auto n) {
                    panel_tile<decltype(n)::value, P, Step>(k, k0, k1, a + r * lda, lda, w, y + r * ldy + c, ldy, mask, b, gelu);
                });
        };
        if (width > 16) rows(std::integral_constant<int, 2>{});
        else rows(std::integral_constant<int, 1>{});
    }
}

}  // namespace lmx::kernels::avx512
