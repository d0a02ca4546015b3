#pragma once
// ONNX's TopK: the k largest (or smallest) elements along an axis, with their indices.
#include <cstdint>
#include <optional>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// top_k(x[, k i64 [1]]) -> (values [.., k, ..] x's type, indices i64), sorted best first;
// equal values keep their order (lower index first) and NaN counts as the largest.
// k is the attribute when given (opset 1), else the second input.
OpPtr top_k(int64_t axis, bool largest, std::optional<int64_t> k);

}  // namespace lmx::ops::nd
