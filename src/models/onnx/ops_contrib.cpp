// onnxruntime's com.microsoft contrib ops that LLM exports (onnxruntime-genai's model
// builder, Olive, optimum) use: quantized matmul and gather, fused attention with its
// KV cache, rotary embedding and GELU variants.
#include <cstring>
#include <optional>

#include "base/error.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/activations_ms.hpp"
#include "ops/nd/gather_block_quantized.hpp"
#include "ops/nd/group_query_attention.hpp"
#include "ops/nd/matmul_nbits.hpp"
#include "ops/nd/nd.hpp"
#include "ops/nd/rotary_ms.hpp"
#include "ops/nd/unary.hpp"

namespace lmx::models::onnx_import {

// A 4-bit MatMulNBits's B, f32 scales and packed zero points (or none) when all are
// initializers of the sizes its attributes give, and it has no g_idx (the op checks that
// at run time); nullopt otherwise (the op's infer() names a mismatch).
struct U4Constants {
    const graph::Value *b, *scales, *zp;
    int64_t blocks;
};
static std::optional<U4Constants> u4_constants(const NodeContext& n, const ops::nd::MatMulNBitsParams& p) {
    if (p.bits != 4) return std::nullopt;
    const graph::Value *b = n.constant_input(1), *scales = n.constant_input(2), *zp = n.constant_input(3);
    const bool zp_absent = n.n_inputs() <= 3 || n.node.inputs[3].empty();
    if (!b || b->dtype != DType::U8 || !scales || scales->dtype != DType::F32 || (!zp_absent && (!zp || zp->dtype != DType::U8)))
        return std::nullopt;
    if (n.n_inputs() > 4 && !n.node.inputs[4].empty()) return std::nullopt;
    const int64_t blocks = (p.k + p.block_size - 1) / p.block_size;
    if (ops::nd::elements(b->dims) != p.n * blocks * p.block_size / 2 || ops::nd::elements(scales->dims) != p.n * blocks ||
        (zp && ops::nd::elements(zp->dims) != p.n * ((blocks + 1) / 2)))
        return std::nullopt;
    return U4Constants{b, scales, zp, blocks};
}

// The int8-product case's constants repacked for this CPU's u4 GEMM when it has one
// (AVX-512 VNNI); nullptr otherwise (the op then reads the file's bytes). The file's copy
// stays mapped: other tables (deterministic mode, LMX_ISA) still read it.
static std::shared_ptr<const kernels::PackedWeights> repacked_u4(const NodeContext& n, const ops::nd::MatMulNBitsParams& p) {
    if (!p.int8_products() || p.k % 32 != 0 || p.n % kernels::kPackedRows != 0 ||
        !kernels::best_table().packed[static_cast<int>(kernels::PackedLayout::u4)])
        return nullptr;
    const std::optional<U4Constants> c = u4_constants(n, p);
    if (!c) return nullptr;
    const kernels::U4Matrix w{static_cast<const uint8_t*>(c->b->data), static_cast<const float*>(c->scales->data),
                              c->zp ? static_cast<const uint8_t*>(c->zp->data) : nullptr, p.block_size};
    return std::make_shared<const kernels::PackedWeights>(w, p.n, p.k);
}

// The f32 case's constants (not int8 products): B copied into weight memory (the file's
// pages given back) and its blocks' offsets, ops::nd::U4F32Weights; nullptr otherwise.
static std::shared_ptr<const ops::nd::U4F32Weights> u4_f32_weights(const NodeContext& n, const ops::nd::MatMulNBitsParams& p) {
    const std::optional<U4Constants> c = p.int8_products() ? std::nullopt : u4_constants(n, p);
    if (!c) return nullptr;
    const size_t b_bytes = static_cast<size_t>(ops::nd::elements(c->b->dims));
    auto w = std::make_shared<ops::nd::U4F32Weights>();
    w->b = WeightMemory(b_bytes);
    std::memcpy(w->b.data(), c->b->data, b_bytes);
    if (n.file) n.file->release(c->b->data, b_bytes);
    w->offsets.resize(static_cast<size_t>(p.n * c->blocks));
    const kernels::U4Weights u{w->b.data(), static_cast<const float*>(c->scales->data),
                               c->zp ? static_cast<const uint8_t*>(c->zp->data) : nullptr, 0, c->blocks, (c->blocks + 1) / 2};
    kernels::u4_offsets(u, p.n, c->blocks, w->offsets.data());
    return w;
}

static ops::nd::MatMulNBitsParams matmul_nbits_params(const NodeContext& n) {
    ops::nd::MatMulNBitsParams p;
    p.k = n.require_int("K");
    p.n = n.require_int("N");
    p.bits = n.get_int("bits", 4);
    p.block_size = n.require_int("block_size");
    p.accuracy_level = n.get_int("accuracy_level", 0);
    return p;
}

static ops::OpPtr make_matmul_nbits(const NodeContext& n) {
    const ops::nd::MatMulNBitsParams p = matmul_nbits_params(n);
    return ops::nd::matmul_nbits(p, repacked_u4(n, p), u4_f32_weights(n, p));
}

ops::OpPtr matmul_nbits_group(std::span<const NodeContext> members) {
    std::vector<ops::nd::MatMulNBitsParams> params;
    std::vector<std::shared_ptr<const kernels::PackedWeights>> packed;
    for (const NodeContext& n : members) {
        params.push_back(matmul_nbits_params(n));
        packed.push_back(repacked_u4(n, params.back()));
        if (!packed.back() || n.n_inputs() > 4 || params.back().k != params[0].k || params.back().block_size != params[0].block_size)
            return nullptr;
    }
    return ops::nd::matmul_nbits_group(params, std::move(packed));
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
