#pragma once
// Ops about shapes (ONNX's Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Expand) and
// ops that make a tensor from a shape (ConstantOfShape, Range, EyeLike). Shapes and
// sizes are i64 tensors; ops that only change dims copy the elements, as the IR has no views.
#include <optional>
#include <vector>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// shape(x) -> i64 [k]: x's dims from start to end (negative counts from the back, both
// clamped to the rank; no end: to the last dim).
OpPtr shape(int64_t start, std::optional<int64_t> end);
// size(x) -> i64 []: x's element count.
OpPtr size();
// reshape(x[, shape i64]) -> x with the given dims: a -1 takes what is left, a 0 copies
// x's dim unless allow_zero (then it is a real 0). The dims come from `dims` when given
// (opset 1's attribute), else from the second input.
OpPtr reshape(bool allow_zero, std::optional<std::vector<int64_t>> dims = std::nullopt);
// flatten(x) -> 2 dims: [product of dims before axis, product of the rest]; axis in [-rank, rank].
OpPtr flatten(int64_t axis);
// squeeze(x[, axes]) -> x without the given size-1 dims: from `axes` when given (an
// attribute before opset 13), else from the second input, else every size-1 dim.
OpPtr squeeze(std::optional<std::vector<int64_t>> axes);
// unsqueeze(x[, axes]) -> x with size-1 dims inserted at `axes` (positions in the
// output), from `axes` when given (an attribute before opset 13) else the second input.
OpPtr unsqueeze(std::optional<std::vector<int64_t>> axes);
// expand(x, shape i64) -> x broadcast with shape (numpy rules: either side may be 1).
OpPtr expand();
// constant_of_shape(shape i64) -> a tensor of those dims filled with one element of
// `dtype` whose bytes are `value`.
OpPtr constant_of_shape(DType dtype, std::vector<uint8_t> value);
// range(start, limit, delta scalars of one type) -> [start, start + delta, ...) up to limit.
OpPtr range();
// eye_like(x 2-d) -> x's dims (in `dtype`, or x's type when absent) with ones on the
// diagonal shifted by k (k > 0: above), zeros elsewhere.
OpPtr eye_like(std::optional<DType> dtype, int64_t k);

}  // namespace lmx::ops::nd
