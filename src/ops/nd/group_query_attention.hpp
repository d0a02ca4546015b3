#pragma once
// onnxruntime's com.microsoft GroupQueryAttention as onnxruntime-genai's model builder
// emits it for CPU: causal (optionally sliding-window) attention of new tokens over a
// BNSH KV cache passed in as past_key/past_value and returned as present_key/value,
// with optional rotary embedding of q and k.
#include <cstdint>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

struct GqaParams {
    int64_t num_heads = 0;
    int64_t kv_num_heads = 0;
    float scale = 0;                 // 0: 1 / sqrt(head_size)
    int64_t local_window_size = -1;  // > 0: a token sees itself and the window's previous tokens
    float softcap = 0;               // > 0: scores become softcap · tanh(scores / softcap)
    bool do_rotary = false;
    bool rotary_interleaved = false;
    bool smooth_softmax = false;     // softmax with an extra zero logit
};
// group_query_attention(query [B, S, H·D] (or packed QKV [B, S, (H + 2·Hkv)·D] without key
//   and value), key, value [B, S, Hkv·D], past_key, past_value [B, Hkv, P, D], seqlens_k i32 [B]
//   (each sequence's total length - 1), total_sequence_length i32 scalar[, cos_cache,
//   sin_cache [max_pos, rotary_dim / 2]][, position_ids i64 [B, S]][, attention_bias
//   [B or 1, H or 1, S, total]]) -> output [B, S, H·D], present_key, present_value
//   [B, Hkv, max(P, total), D].
OpPtr group_query_attention(const GqaParams& p);

}  // namespace lmx::ops::nd
