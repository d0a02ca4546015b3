#pragma once
// Softmax, LogSoftmax and Hardmax of a float tensor. Before ONNX opset 13 these
// flatten the input to 2D at `axis` and normalize over everything from axis on
// (coerce_2d); from 13 on they normalize along the one axis.
#include <cstdint>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

enum class SoftmaxKind { softmax, log_softmax, hardmax };

// softmax(x) -> same dims and type. Softmax subtracts the maximum first, so large
// inputs do not overflow; Hardmax puts 1 at the first maximum (a NaN wins), 0 elsewhere.
OpPtr softmax(SoftmaxKind k, int64_t axis, bool coerce_2d);

}  // namespace lmx::ops::nd
