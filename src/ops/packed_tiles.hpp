#pragma once
// The repacked-weight GEMM's driver that ops/matmul.cpp (GGUF weights) and
// ops/nd/matmul_nbits.cpp (onnxruntime's 4-bit weights) share: activation rows already
// quantized, one layout kernel call per tile and group of rows.
#include <cstddef>
#include <cstdint>

#include <algorithm>
#include <span>

#include "kernels/kernels.hpp"
#include "ops/op_base.hpp"

namespace lmx::ops {

// Activation rows quantized to a weight type's activation format (in ctx's scratch).
struct QuantizedRows {
    const uint8_t* data;
    size_t row_bytes;
    int64_t rows;
    const void* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

// Tiles [t0, t1) of a repacked weight against every activation row: y[r, c] for the tiles'
// 16 columns each. A tile (Q4_K, k = 1536: 15 KB) stays in L1 while every group of
// activation rows passes over it.
inline void packed_tiles(kernels::PackedFn fn, const kernels::PackedWeights& p, const QuantizedRows& a, const float* bias, float* y,
                         int64_t t0, int64_t t1) {
    const int64_t n = p.n(), k = p.k();
    const void* rows[kernels::kMaxDotRows];
    for (int64_t t = t0; t < t1; t++) {
        const int64_t c0 = t * kernels::kPackedRows;
        kernels::for_row_groups(a.rows, [&](int64_t r, int nr) {
            for (int i = 0; i < nr; i++) rows[i] = a.row(r + i);
            fn(k, p.tile(t), rows, nr, y + r * n + c0, n);
            if (bias)
                for (int i = 0; i < nr; i++)
                    for (int c = 0; c < kernels::kPackedRows; c++) y[(r + i) * n + c0 + c] += bias[c0 + c];
        });
    }
}

// One weight of a packed pass: its GEMM, repacked copy, bias (or nullptr) and output.
struct PackedMember {
    kernels::PackedFn fn;
    const kernels::PackedWeights* w;
    const float* bias;
    float* y;
};

// One parallel pass over the tiles of all members, one after another, against the rows of
// a (quantized once to the members' shared activation type).
inline void packed_members(graph::ExecContext& ctx, const QuantizedRows& a, std::span<const PackedMember> ms) {
    int64_t tiles = 0;
    for (const PackedMember& m : ms) tiles += m.w->n() / kernels::kPackedRows;
    parallel_for(ctx, tiles, [&](int64_t b, int64_t e) {
        int64_t first = 0;  // the member's first tile in the pass
        for (const PackedMember& m : ms) {
            const int64_t n_tiles = m.w->n() / kernels::kPackedRows;
            const int64_t t0 = std::max(b, first) - first, t1 = std::min(e, first + n_tiles) - first;
            if (t0 < t1) packed_tiles(m.fn, *m.w, a, m.bias, m.y, t0, t1);
            first += n_tiles;
        }
    });
}

}  // namespace lmx::ops
