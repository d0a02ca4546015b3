// ONNX's elementwise ops on two broadcast inputs.
#include "base/error.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/binary.hpp"

namespace lmx::models::onnx_import {

using ops::nd::BinaryKind;

template <BinaryKind K>
static ops::OpPtr make_binary(const NodeContext&) { return ops::nd::binary(K); }

static ops::OpPtr make_mod(const NodeContext& n) {
    return ops::nd::binary(n.get_int("fmod", 0) ? BinaryKind::fmod : BinaryKind::mod);
}

static ops::OpPtr make_bit_shift(const NodeContext& n) {
    const std::string dir = n.get_string("direction", "");
    if (dir != "LEFT" && dir != "RIGHT") fail("attribute 'direction' must be LEFT or RIGHT, got ", shown(dir));
    return ops::nd::binary(dir == "LEFT" ? BinaryKind::shift_left : BinaryKind::shift_right);
}

static constexpr Entry kEntries[] = {
    {"", "Add", make_binary<BinaryKind::add>},
    {"", "Sub", make_binary<BinaryKind::sub>},
    {"", "Mul", make_binary<BinaryKind::mul>},
    {"", "Div", make_binary<BinaryKind::div>},
    {"", "Pow", make_binary<BinaryKind::pow>},
    {"", "Mod", make_mod},
    {"", "Equal", make_binary<BinaryKind::equal>},
    {"", "Less", make_binary<BinaryKind::less>},
    {"", "LessOrEqual", make_binary<BinaryKind::less_equal>},
    {"", "Greater", make_binary<BinaryKind::greater>},
    {"", "GreaterOrEqual", make_binary<BinaryKind::greater_equal>},
    {"", "And", make_binary<BinaryKind::logical_and>},
    {"", "Or", make_binary<BinaryKind::logical_or>},
    {"", "Xor", make_binary<BinaryKind::logical_xor>},
    {"", "BitwiseAnd", make_binary<BinaryKind::bit_and>},
    {"", "BitwiseOr", make_binary<BinaryKind::bit_or>},
    {"", "BitwiseXor", make_binary<BinaryKind::bit_xor>},
    {"", "BitShift", make_bit_shift},
};

std::span<const Entry> elementwise_entries() { return kEntries; }

}  // namespace lmx::models::onnx_import
