#pragma once
// Elementwise ops on one input (ONNX's math functions, activations and predicates),
// plus Identity and inference-time Dropout, which pass their input through.
#include "ops/ops.hpp"

namespace lmx::ops::nd {

// Output dtype is the input's unless noted; attributes are UnaryAttrs' alpha and beta.
enum class UnaryKind {
    neg, abs, sign, relu,                   // numeric (neg, relu: signed integers and floats)
    not_,                                   // bool -> bool
    isnan, isinf,                           // float -> bool; isinf: alpha != 0 detects +inf, beta != 0 detects -inf
    shrink,                                 // numeric; alpha = bias, beta = lambd
    sqrt, reciprocal, exp, log, erf, tanh, sigmoid,  // the rest: floats only
    sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh,
    floor, ceil, round,                     // round: half to even
    leaky_relu, elu, celu, thresholded_relu,  // alpha
    selu,                                   // alpha, beta = gamma
    hard_sigmoid,                           // max(0, min(1, alpha * x + beta))
    hard_swish, softplus, softsign, mish,
    gelu, gelu_tanh,                        // exact (erf) and tanh-approximated GELU
};
struct UnaryAttrs {
    float alpha = 0;
    float beta = 0;
};
OpPtr unary(UnaryKind k, UnaryAttrs a = {});

// identity(x) -> a copy of x, any dtype.
OpPtr identity();
// dropout(x[, ratio][, training_mode]) -> x[, mask of ones]: Dropout at inference.
// training_mode, when given, must be false. with_mask: the node has a mask output, bool
// (mask_like_input: of x's dtype, as before opset 10).
OpPtr dropout(bool with_mask, bool mask_like_input);

}  // namespace lmx::ops::nd
