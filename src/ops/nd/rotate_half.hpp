#pragma once
// RoPE as exports write it out in plain ONNX ops (lmx export, Hugging Face's
// rotate_half): x · cos + rotate_half(x) · sin, rotate_half(x) = concat(−x[.., h:], x[.., :h]),
// seven nodes a head and layer that the importer fuses into this one.
#include <cstdint>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// rotate_half(x f32 [.., 2·half], cos, sin f32 broadcastable to x, last dim 2·half)
//   -> x · cos + rotate_half(x) · sin, each product rounded, then the sum: the bits of the
//      Mul, Mul and Add it replaces.
OpPtr rotate_half(int64_t half);

}  // namespace lmx::ops::nd
