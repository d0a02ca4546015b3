#pragma once
// onnxruntime's com.microsoft GELU variants with an optional bias added first:
// FastGelu (tanh approximation), BiasGelu (exact, erf) and QuickGelu (x · σ(αx)).
// com.microsoft's plain Gelu is the standard exact GELU (nd::unary's gelu).
#include "ops/ops.hpp"

namespace lmx::ops::nd {

enum class GeluMsKind { fast, bias_erf, quick };
// gelu_ms(x float[, bias [x's last dim]]) -> gelu(x + bias), x's dims and type.
// BiasGelu requires the bias; alpha is QuickGelu's.
OpPtr gelu_ms(GeluMsKind k, float alpha = 1.702f);

}  // namespace lmx::ops::nd
