#include "models/onnx/node_context.hpp"

#include "base/error.hpp"

namespace lmx::models::onnx_import {

const onnx::Attribute* NodeContext::typed(std::string_view name, onnx::AttrType t) const {
    const onnx::Attribute* a = node.attribute(name);
    if (a && a->type != t)
        lmx::fail("attribute '", name, "' is ", onnx::attr_type_name(a->type), ", expected ", onnx::attr_type_name(t));
    return a;
}

int64_t NodeContext::get_int(std::string_view name, int64_t fallback) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::INT);
    return a ? a->i : fallback;
}

int64_t NodeContext::require_int(std::string_view name) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::INT);
    if (!a) lmx::fail("needs attribute '", name, "'");
    return a->i;
}

float NodeContext::get_float(std::string_view name, float fallback) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::FLOAT);
    return a ? a->f : fallback;
}

std::string NodeContext::get_string(std::string_view name, std::string fallback) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::STRING);
    return a ? a->s : fallback;
}

std::optional<std::vector<int64_t>> NodeContext::get_ints(std::string_view name) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::INTS);
    if (!a) return std::nullopt;
    return a->ints;
}

std::optional<std::vector<float>> NodeContext::get_floats(std::string_view name) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::FLOATS);
    if (!a) return std::nullopt;
    return a->floats;
}

const onnx::Tensor* NodeContext::get_tensor(std::string_view name) const {
    const onnx::Attribute* a = typed(name, onnx::AttrType::TENSOR);
    return a ? &a->tensors.at(0) : nullptr;
}

DType to_dtype(onnx::DataType t) {
    using D = onnx::DataType;
    switch (t) {
        case D::FLOAT: return DType::F32;
        case D::DOUBLE: return DType::F64;
        case D::FLOAT16: return DType::F16;
        case D::BFLOAT16: return DType::BF16;
        case D::INT8: return DType::I8;
        case D::INT16: return DType::I16;
        case D::INT32: return DType::I32;
        case D::INT64: return DType::I64;
        case D::UINT8: return DType::U8;
        case D::UINT16: return DType::U16;
        case D::UINT32: return DType::U32;
        case D::UINT64: return DType::U64;
        case D::BOOL: return DType::BOOL;
        default: fail("element type ", onnx::data_type_name(t), " is not supported");
    }
}

}  // namespace lmx::models::onnx_import
