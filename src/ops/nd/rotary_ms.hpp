#pragma once
// onnxruntime's com.microsoft RotaryEmbedding (RoPE from precomputed cos/sin caches),
// and the rotation of one head it shares with GroupQueryAttention.
#include <cstdint>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// y[0, head_size) = x rotated by the angles whose cos/sin are cos[0, rotary_dim/2),
// sin[...]: pairs (i, i + rotary_dim/2) rotate together, or (2i, 2i+1) when
// interleaved; dims past rotary_dim are copied. x == y allowed.
void rotate_head(const float* x, float* y, const float* cos, const float* sin, int64_t rotary_dim, int64_t head_size, bool interleaved);

struct RotaryMsParams {
    bool interleaved = false;
    int64_t num_heads = 0;             // 3-D input: heads in its last dim (0: hidden / head_size)
    int64_t rotary_embedding_dim = 0;  // 0: the whole head (head_size = 2 · cos_cache's last dim)
};
// rotary_embedding_ms(input [B, S, H·D] or [B, H, S, D], position_ids i64 [B, S] or [1]
//                     (an offset: positions offset + s), cos_cache, sin_cache [max_pos, rotary_dim/2])
//   -> input rotated, same dims and type.
OpPtr rotary_embedding_ms(const RotaryMsParams& p);

}  // namespace lmx::ops::nd
