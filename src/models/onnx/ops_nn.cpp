// ONNX's matrix products and normalizations, with onnxruntime's contrib forms of the
// latter (SimplifiedLayerNormalization is registered by onnxruntime in the standard
// domain, the Skip* ones in com.microsoft).
#include "kernels/kernels.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/matmul_nd.hpp"
#include "ops/nd/normalization.hpp"

namespace lmx::models::onnx_import {

std::shared_ptr<const std::vector<float>> f32_panels_of(const onnx::Model* file, const graph::Value* b, bool trans_b) {
    if (!b || !b->data || b->dtype != DType::F32 || b->dims.size() != 2) return nullptr;
    const int64_t k = b->dims[trans_b ? 1 : 0], n = b->dims[trans_b ? 0 : 1];
    auto panels = std::make_shared<std::vector<float>>(static_cast<size_t>(kernels::f32_panels(n) * k * kernels::kF32Panel));
    kernels::pack_f32_panels(static_cast<const float*>(b->data), trans_b ? k : n, n, k, trans_b, panels->data());
    if (file) file->release(b->data, static_cast<size_t>(k * n) * sizeof(float));
    return panels;
}

static ops::OpPtr make_matmul(const NodeContext& n) { return ops::nd::matmul(false, f32_panels_of(n.file, n.constant_input(1), false)); }

static ops::OpPtr make_gemm(const NodeContext& n) {
    ops::nd::GemmParams p;
    p.alpha = n.get_float("alpha", 1.0f);
    p.beta = n.get_float("beta", 1.0f);
    p.trans_a = n.get_int("transA", 0) != 0;
    p.trans_b = n.get_int("transB", 0) != 0;
    return ops::nd::gemm(p);
}

template <bool Rms>
static ops::OpPtr make_norm(const NodeContext& n) {
    ops::nd::NormParams p;
    p.rms = Rms;
    p.axis = n.get_int("axis", -1);
    p.epsilon = n.get_float("epsilon", 1e-5f);
    p.n_outputs = static_cast<int>(n.n_outputs());
    return ops::nd::layer_norm_nd(p);
}

template <bool Rms>
static ops::OpPtr make_skip_norm(const NodeContext& n) {
    ops::nd::SkipNormParams p;
    p.rms = Rms;
    p.epsilon = n.get_float("epsilon", 1e-12f);  // onnxruntime's default for these two
    p.n_outputs = static_cast<int>(n.n_outputs());
    return ops::nd::skip_layer_norm(p);
}

static constexpr Entry kEntries[] = {
    {"", "MatMul", make_matmul},
    {"", "Gemm", make_gemm},
    {"", "LayerNormalization", make_norm<false>},
    {"", "RMSNormalization", make_norm<true>},
    {"", "SimplifiedLayerNormalization", make_norm<true>},
    {"com.microsoft", "SimplifiedLayerNormalization", make_norm<true>},
    {"com.microsoft", "SkipLayerNormalization", make_skip_norm<false>},
    {"com.microsoft", "SkipSimplifiedLayerNormalization", make_skip_norm<true>},
};

std::span<const Entry> nn_entries() { return kEntries; }

}  // namespace lmx::models::onnx_import
