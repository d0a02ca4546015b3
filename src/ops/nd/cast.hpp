#pragma once
// Element type conversion (ONNX's Cast and CastLike) between every plain type lmx holds:
// floats, integers and bool.
#include <optional>

#include "ops/ops.hpp"
#include "tensor/dtype.hpp"

namespace lmx::ops::nd {

// cast(x) -> x converted to `to`; with no `to` (CastLike), cast(x, like) converts to like's
// dtype. Float to integer truncates toward zero, NaN gives 0 and out-of-range values
// saturate; anything to bool is x != 0; integer to narrower integer wraps.
OpPtr cast(std::optional<DType> to);

}  // namespace lmx::ops::nd
