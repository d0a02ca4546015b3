#pragma once
// The operators the model builders compose. Each factory returns an immutable op;
// shapes are row-major with the contiguous dim last (see graph/ir.hpp).
#include <memory>

#include "graph/ir.hpp"

namespace lmx::ops {

using OpPtr = std::shared_ptr<const graph::Op>;

// embed(table [V, D] any dtype, ids i32 [T]) -> f32 [T, D]: one dequantized row per id.
OpPtr embed();
// matmul(x f32 [R, K], w [N, K] any supported dtype[, bias f32 [N]]) -> f32 [R, N] = x · wᵀ (+ bias).
OpPtr matmul();
// rms_norm(x f32 [R, D], weight f32 [D]) -> x / sqrt(mean(x²) + eps) * weight.
OpPtr rms_norm(float eps);
// add(a, b) -> a + b, same dims.
OpPtr add();
// swiglu(gate, up) -> silu(gate) * up, same dims.
OpPtr swiglu();
// gather_rows(x f32 [T, D], rows i32 [O]) -> f32 [O, D]: the rows whose outputs were requested.
OpPtr gather_rows();

enum class RopeLayout { adjacent_pairs, neox_halves };  // ggml's NORM and NEOX modes
struct RopeParams {
    int n_heads = 0;
    int head_dim = 0;
    int n_rot = 0;  // leading dims of each head that rotate
    float freq_base = 10000.0f;
    RopeLayout layout = RopeLayout::adjacent_pairs;
};
// rope(x f32 [T, n_heads * head_dim], positions i32 [T]) -> rotated copy.
OpPtr rope(const RopeParams& p);

struct AttentionParams {
    int layer = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int head_dim = 0;
    float scale = 0;  // applied to q·k
};
// attention(q [T, H*D], k [T, Hkv*D], v [T, Hkv*D], positions i32 [T], seq_ids i32 [T]) -> [T, H*D].
// Writes k and v into the context's KV cache at (seq, position), then lets every token
// attend causally to its own sequence's cached positions 0..position.
OpPtr attention(const AttentionParams& p);

}  // namespace lmx::ops
