#pragma once
// Elementwise ops that choose between or combine several broadcast inputs: Where, Clip,
// PRelu, and the variadic Min, Max, Sum and Mean.
#include <optional>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// where(cond bool, x, y) -> cond ? x : y, the three broadcast together; x and y any one dtype.
OpPtr where();

// clip(x[, min][, max]) -> min(max(x, min), max): min > max gives max everywhere. The bounds
// are the optional one-element inputs of x's dtype (opset >= 11), else the attributes
// given here (float x only, opset < 11); without either, that side is unbounded.
OpPtr clip(std::optional<float> min_attr = std::nullopt, std::optional<float> max_attr = std::nullopt);

// prelu(x, slope) -> x > 0 ? x : x * slope, slope broadcast to x's dims.
OpPtr prelu();

// One or more inputs of one dtype broadcast together, folded elementwise. min/max: any
// numeric type, NaN propagates; sum/mean: floats.
enum class VariadicKind { min, max, sum, mean };
OpPtr variadic(VariadicKind k);

}  // namespace lmx::ops::nd
