// ONNX's elementwise math on one input (functions, activations, predicates), type
// conversion, and the ops choosing between or combining inputs (Where, Clip, PRelu,
// variadic Min/Max/Sum/Mean), plus the pass-through Identity and Dropout.
#include "base/error.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/cast.hpp"
#include "ops/nd/select.hpp"
#include "ops/nd/unary.hpp"

namespace lmx::models::onnx_import {

using ops::nd::UnaryKind;
using ops::nd::VariadicKind;

template <UnaryKind K>
static ops::OpPtr make_unary(const NodeContext&) { return ops::nd::unary(K); }

// Ops whose one attribute is `alpha`, with its default.
// Activations with one attribute, alpha, and its default (no float template parameters:
// clang 14, the sanitizer build's compiler, lacks them).
static ops::OpPtr with_alpha(const NodeContext& n, UnaryKind k, float fallback) { return ops::nd::unary(k, {n.get_float("alpha", fallback), 0}); }
static ops::OpPtr make_leaky_relu(const NodeContext& n) { return with_alpha(n, UnaryKind::leaky_relu, 0.01f); }
static ops::OpPtr make_elu(const NodeContext& n) { return with_alpha(n, UnaryKind::elu, 1.0f); }
static ops::OpPtr make_celu(const NodeContext& n) { return with_alpha(n, UnaryKind::celu, 1.0f); }
static ops::OpPtr make_thresholded_relu(const NodeContext& n) { return with_alpha(n, UnaryKind::thresholded_relu, 1.0f); }

static ops::OpPtr make_selu(const NodeContext& n) {
    return ops::nd::unary(UnaryKind::selu, {n.get_float("alpha", 1.67326319217681884765625f), n.get_float("gamma", 1.05070102214813232421875f)});
}

static ops::OpPtr make_hard_sigmoid(const NodeContext& n) {
    return ops::nd::unary(UnaryKind::hard_sigmoid, {n.get_float("alpha", 0.2f), n.get_float("beta", 0.5f)});
}

static ops::OpPtr make_shrink(const NodeContext& n) {
    return ops::nd::unary(UnaryKind::shrink, {n.get_float("bias", 0.0f), n.get_float("lambd", 0.5f)});
}

static ops::OpPtr make_is_inf(const NodeContext& n) {
    return ops::nd::unary(UnaryKind::isinf, {n.get_int("detect_positive", 1) ? 1.0f : 0.0f, n.get_int("detect_negative", 1) ? 1.0f : 0.0f});
}

static ops::OpPtr make_gelu(const NodeContext& n) {
    const std::string a = n.get_string("approximate", "none");
    if (a != "none" && a != "tanh") fail("attribute 'approximate' must be none or tanh, got ", shown(a));
    return ops::nd::unary(a == "tanh" ? UnaryKind::gelu_tanh : UnaryKind::gelu);
}

static ops::OpPtr make_cast(const NodeContext& n) { return ops::nd::cast(to_dtype(static_cast<onnx::DataType>(n.require_int("to")))); }
static ops::OpPtr make_cast_like(const NodeContext&) { return ops::nd::cast(std::nullopt); }

static ops::OpPtr make_where(const NodeContext&) { return ops::nd::where(); }
static ops::OpPtr make_prelu(const NodeContext&) { return ops::nd::prelu(); }

// Before opset 11 the bounds are attributes; from 11 they are optional inputs.
static ops::OpPtr make_clip(const NodeContext& n) {
    if (n.opset >= 11) return ops::nd::clip();
    auto attr = [&](const char* name) { return n.has(name) ? std::optional<float>(n.get_float(name, 0)) : std::nullopt; };
    return ops::nd::clip(attr("min"), attr("max"));
}

template <VariadicKind K>
static ops::OpPtr make_variadic(const NodeContext&) { return ops::nd::variadic(K); }

static ops::OpPtr make_identity(const NodeContext&) { return ops::nd::identity(); }

// Inference only: the output is the input (before opset 7 the is_test attribute chose
// training; lmx always runs the test behaviour). The mask is bool from opset 10.
static ops::OpPtr make_dropout(const NodeContext& n) {
    if (n.n_outputs() < 1 || n.n_outputs() > 2) fail("a Dropout has 1 or 2 outputs, this one ", n.n_outputs());
    return ops::nd::dropout(n.n_outputs() == 2, n.opset < 10);
}

static constexpr Entry kEntries[] = {
    {"", "Neg", make_unary<UnaryKind::neg>},
    {"", "Abs", make_unary<UnaryKind::abs>},
    {"", "Sign", make_unary<UnaryKind::sign>},
    {"", "Relu", make_unary<UnaryKind::relu>},
    {"", "Not", make_unary<UnaryKind::not_>},
    {"", "IsNaN", make_unary<UnaryKind::isnan>},
    {"", "IsInf", make_is_inf},
    {"", "Shrink", make_shrink},
    {"", "Sqrt", make_unary<UnaryKind::sqrt>},
    {"", "Reciprocal", make_unary<UnaryKind::reciprocal>},
    {"", "Exp", make_unary<UnaryKind::exp>},
    {"", "Log", make_unary<UnaryKind::log>},
    {"", "Erf", make_unary<UnaryKind::erf>},
    {"", "Tanh", make_unary<UnaryKind::tanh>},
    {"", "Sigmoid", make_unary<UnaryKind::sigmoid>},
    {"", "Sin", make_unary<UnaryKind::sin>},
    {"", "Cos", make_unary<UnaryKind::cos>},
    {"", "Tan", make_unary<UnaryKind::tan>},
    {"", "Asin", make_unary<UnaryKind::asin>},
    {"", "Acos", make_unary<UnaryKind::acos>},
    {"", "Atan", make_unary<UnaryKind::atan>},
    {"", "Sinh", make_unary<UnaryKind::sinh>},
    {"", "Cosh", make_unary<UnaryKind::cosh>},
    {"", "Asinh", make_unary<UnaryKind::asinh>},
    {"", "Acosh", make_unary<UnaryKind::acosh>},
    {"", "Atanh", make_unary<UnaryKind::atanh>},
    {"", "Floor", make_unary<UnaryKind::floor>},
    {"", "Ceil", make_unary<UnaryKind::ceil>},
    {"", "Round", make_unary<UnaryKind::round>},
    {"", "LeakyRelu", make_leaky_relu},
    {"", "Elu", make_elu},
    {"", "Celu", make_celu},
    {"", "ThresholdedRelu", make_thresholded_relu},
    {"", "Selu", make_selu},
    {"", "HardSigmoid", make_hard_sigmoid},
    {"", "HardSwish", make_unary<UnaryKind::hard_swish>},
    {"", "Softplus", make_unary<UnaryKind::softplus>},
    {"", "Softsign", make_unary<UnaryKind::softsign>},
    {"", "Mish", make_unary<UnaryKind::mish>},
    {"", "Gelu", make_gelu},
    {"", "Cast", make_cast},
    {"", "CastLike", make_cast_like},
    {"", "Where", make_where},
    {"", "Clip", make_clip},
    {"", "PRelu", make_prelu},
    {"", "Min", make_variadic<VariadicKind::min>},
    {"", "Max", make_variadic<VariadicKind::max>},
    {"", "Sum", make_variadic<VariadicKind::sum>},
    {"", "Mean", make_variadic<VariadicKind::mean>},
    {"", "Identity", make_identity},
    {"", "Dropout", make_dropout},
};

std::span<const Entry> math_entries() { return kEntries; }

}  // namespace lmx::models::onnx_import
