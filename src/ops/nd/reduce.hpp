#pragma once
// Reductions over axes of an n-dimensional tensor: ONNX's Reduce* family and
// ArgMax/ArgMin. Each output element is reduced by one thread in row-major order of
// the reduced elements, so results never depend on the thread count.
#include <cstdint>
#include <optional>
#include <vector>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

enum class ReduceKind { sum, mean, max, min, prod, l1, l2, log_sum, log_sum_exp, sum_square };

// reduce(data[, axes i64]) -> data reduced over `axes` (the attribute when given, else the
// optional second input); no axes reduces all of them, or none when noop_with_empty_axes.
// An empty set reduces to its identity as onnx's reference defines it (sum 0, prod 1,
// max -inf or the type's lowest, log_sum -inf, mean NaN).
OpPtr reduce(ReduceKind k, std::optional<std::vector<int64_t>> axes, bool keepdims, bool noop_with_empty_axes);

// arg_reduce(data) -> i64 index of the largest (is_max) or smallest element along
// `axis`; ties go to the first index, or the last with select_last_index; NaN wins.
OpPtr arg_reduce(bool is_max, int64_t axis, bool keepdims, bool select_last_index);

}  // namespace lmx::ops::nd
