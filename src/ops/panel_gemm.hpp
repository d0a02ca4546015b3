#pragma once
// The task split of the GEMMs over packed panels (kernels.hpp), shared by the dense op
// and ONNX's MatMul with a constant b: tasks are (block of rows, two panels), a thread's
// contiguous range walking the panels of one row block so that block stays in L2; each
// task passes over k in ranges whose two panels (16 KB) stay in L1 with the rows of a
// that meet them.
#include <algorithm>

#include "ops/op_base.hpp"

namespace lmx::ops {

// gemm(r0, rows, c0, cols, k0, k1) for every task and k range of an m × n product; k
// counts the kernel's steps (values, or pairs of them).
template <class Gemm>
void for_panel_tasks(graph::ExecContext& ctx, int64_t m, int64_t n, int64_t k, const Gemm& gemm) {
    constexpr int64_t kRowBlock = 96, kCols = 2 * kernels::kF32Panel, kKRange = 128;
    const int64_t blocks = (m + kRowBlock - 1) / kRowBlock, rows = blocks ? (m + blocks - 1) / blocks : 0;
    const int64_t chunks = (n + kCols - 1) / kCols;
    parallel_for(ctx, blocks * chunks, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; t++) {
            const int64_t r0 = t / chunks * rows, c0 = t % chunks * kCols;
            for (int64_t k0 = 0; k0 == 0 || k0 < k; k0 += kKRange)
                gemm(r0, std::min(rows, m - r0), c0, std::min(kCols, n - c0), k0, std::min(k, k0 + kKRange));
        }
    });
}

// y [m, n] = x [m, k] · w (f32 panels of a [k, n] matrix) (+ bias) (→ GELU).
inline void panel_gemm_f32(graph::ExecContext& ctx, int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                           bool gelu, float* y) {
    for_panel_tasks(ctx, m, n, k, [&](int64_t r0, int64_t nr, int64_t c0, int64_t cols, int64_t k0, int64_t k1) {
        ctx.kernels.gemm_f32_panels(nr, k, k0, k1, x + r0 * k, k, w + c0 * k, cols, y + r0 * n + c0, n, bias ? bias + c0 : nullptr, gelu);
    });
}

}  // namespace lmx::ops
