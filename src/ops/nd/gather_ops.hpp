#pragma once
// Ops that read or write elements at positions given by an index tensor (ONNX's
// Gather, GatherElements, GatherND, ScatterElements, ScatterND, OneHot) and CumSum.
// Indices may be negative (counted from the back of their dim); one out of range is an
// error naming it, never a read or write outside the tensor.
#include "ops/ops.hpp"

namespace lmx::ops::nd {

// How a scatter combines an update with the element already there (none: replaces it).
enum class ScatterReduction { none, add, mul, max, min };

// gather(data, indices i32/i64) -> data[:axis] + indices dims + data[axis+1:]: the slices of
// data along axis at each index.
OpPtr gather(int64_t axis);
// gather_elements(data, indices same rank) -> indices dims: out[p] = data[p with its axis
// coordinate replaced by indices[p]].
OpPtr gather_elements(int64_t axis);
// gather_nd(data, indices [..., k]) -> the slices of data (after its first batch_dims dims,
// which data and indices share) at each k-tuple of coordinates.
OpPtr gather_nd(int64_t batch_dims);
// scatter_elements(data, indices, updates same dims as indices) -> data with
// out[p with its axis coordinate replaced by indices[p]] combined with updates[p].
OpPtr scatter_elements(int64_t axis, ScatterReduction r);
// scatter_nd(data, indices [..., k], updates) -> data with the slice at each k-tuple of
// indices combined with the matching slice of updates.
OpPtr scatter_nd(ScatterReduction r);
// one_hot(indices, depth scalar, values [off, on]) -> indices dims with depth inserted at
// axis: on where the new coordinate equals the index (negatives count from depth), else off.
OpPtr one_hot(int64_t axis);
// cum_sum(x, axis scalar) -> running sums along axis; exclusive: each leaves out its own
// element; reverse: summed from the end.
OpPtr cum_sum(bool exclusive, bool reverse);

}  // namespace lmx::ops::nd
