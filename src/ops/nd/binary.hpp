#pragma once
// Elementwise ops on two inputs with numpy broadcasting, over every element type the
// op allows (ONNX's Add, Sub, Mul, Div, Pow, Mod, comparisons and logical ops).
#include "ops/ops.hpp"

namespace lmx::ops::nd {

enum class BinaryKind {
    add, sub, mul, div, pow, mod, fmod,        // numeric -> same type (pow: exponent any numeric type)
    equal, less, less_equal, greater, greater_equal,  // numeric -> bool
    logical_and, logical_or, logical_xor,       // bool -> bool
    bit_and, bit_or, bit_xor, shift_left, shift_right,  // integers -> same type
};
OpPtr binary(BinaryKind k);

}  // namespace lmx::ops::nd
