// onnxruntime's com.microsoft contrib ops that LLM exports (onnxruntime-genai's model
// builder, Olive, optimum) use: quantized matmul and gather, fused attention with its
// KV cache, rotary embedding and GELU variants.
#include "base/error.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/activations_ms.hpp"
#include "ops/nd/gather_block_quantized.hpp"
#include "ops/nd/group_query_attention.hpp"
#include "ops/nd/matmul_nbits.hpp"
#include "ops/nd/rotary_ms.hpp"
#include "ops/nd/unary.hpp"

namespace lmx::models::onnx_import {

static ops::OpPtr make_matmul_nbits(const NodeContext& n) {
    ops::nd::MatMulNBitsParams p;
    p.k = n.require_int("K");
    p.n = n.require_int("N");
    p.bits = n.get_int("bits", 4);
    p.block_size = n.require_int("block_size");
    p.accuracy_level = n.get_int("accuracy_level", 0);
    return ops::nd::matmul_nbits(p);
}

static ops::OpPtr make_group_query_attention(const NodeContext& n) {
    if (n.n_outputs() != 3) fail("GroupQueryAttention must have the outputs output, present_key and present_value, has ", n.n_outputs());
    ops::nd::GqaParams p;
    p.num_heads = n.require_int("num_heads");
    p.kv_num_heads = n.require_int("kv_num_heads");
    p.scale = n.get_float("scale", 0.0f);
    p.local_window_size = n.get_int("local_window_size", -1);
    p.softcap = n.get_float("softcap", 0.0f);
    p.do_rotary = n.get_int("do_rotary", 0) != 0;
    p.rotary_interleaved = n.get_int("rotary_interleaved", 0) != 0;
    p.smooth_softmax = n.get_int("smooth_softmax", 0) != 0;
    return ops::nd::group_query_attention(p);
}

static ops::OpPtr make_rotary_embedding(const NodeContext& n) {
    if (n.get_int("is_packed_batching", 0) != 0) fail("RotaryEmbedding with is_packed_batching is not supported");
    ops::nd::RotaryMsParams p;
    p.interleaved = n.get_int("interleaved", 0) != 0;
    p.num_heads = n.get_int("num_heads", 0);
    p.rotary_embedding_dim = n.get_int("rotary_embedding_dim", 0);
    return ops::nd::rotary_embedding_ms(p);  // 'scale' is unused by onnxruntime's CPU kernel too
}

static ops::OpPtr make_gather_block_quantized(const NodeContext& n) {
    ops::nd::GatherBlockQuantizedParams p;
    p.gather_axis = n.get_int("gather_axis", 0);
    p.quantize_axis = n.get_int("quantize_axis", 1);
    p.block_size = n.get_int("block_size", 128);
    p.bits = n.get_int("bits", 4);
    return ops::nd::gather_block_quantized(p);
}

template <ops::nd::GeluMsKind K>
static ops::OpPtr make_gelu_ms(const NodeContext& n) { return ops::nd::gelu_ms(K, n.get_float("alpha", 1.702f)); }

static ops::OpPtr make_gelu(const NodeContext&) { return ops::nd::unary(ops::nd::UnaryKind::gelu); }

static constexpr Entry kEntries[] = {
    {"com.microsoft", "MatMulNBits", make_matmul_nbits},
    {"com.microsoft", "GroupQueryAttention", make_group_query_attention},
    {"com.microsoft", "RotaryEmbedding", make_rotary_embedding},
    {"com.microsoft", "GatherBlockQuantized", make_gather_block_quantized},
    {"com.microsoft", "FastGelu", make_gelu_ms<ops::nd::GeluMsKind::fast>},
    {"com.microsoft", "BiasGelu", make_gelu_ms<ops::nd::GeluMsKind::bias_erf>},
    {"com.microsoft", "QuickGelu", make_gelu_ms<ops::nd::GeluMsKind::quick>},
    {"com.microsoft", "Gelu", make_gelu},
};

std::span<const Entry> contrib_entries() { return kEntries; }

}  // namespace lmx::models::onnx_import
