// ONNX data types and the small helpers of the structures in onnx.hpp.
#include <algorithm>
#include <cstring>
#include <limits>

#include "base/error.hpp"
#include "formats/onnx.hpp"

namespace lmx::onnx {

namespace {

struct DataTypeEntry {
    std::string_view name;
    int bits;
};

// Indexed by DataType; names as onnx.helper.tensor_dtype_to_string without the prefix.
constexpr DataTypeEntry kDataTypes[] = {
    {"undefined", 0}, {"float", 32}, {"uint8", 8}, {"int8", 8}, {"uint16", 16}, {"int16", 16},
    {"int32", 32}, {"int64", 64}, {"string", 0}, {"bool", 8}, {"float16", 16}, {"double", 64},
    {"uint32", 32}, {"uint64", 64}, {"complex64", 64}, {"complex128", 128}, {"bfloat16", 16},
    {"float8e4m3fn", 8}, {"float8e4m3fnuz", 8}, {"float8e5m2", 8}, {"float8e5m2fnuz", 8},
    {"uint4", 4}, {"int4", 4}, {"float4e2m1", 4}, {"float8e8m0", 8}, {"uint2", 2}, {"int2", 2},
    {"float6e2m3", 6}, {"float6e3m2", 6},
};
static_assert(std::size(kDataTypes) == kMaxDataType + 1);

}  // namespace

std::string_view data_type_name(DataType t) {
    const auto i = static_cast<int32_t>(t);
    return i >= 0 && i <= kMaxDataType ? kDataTypes[i].name : "unknown";
}

int data_type_bits(DataType t) {
    const auto i = static_cast<int32_t>(t);
    return i >= 0 && i <= kMaxDataType ? kDataTypes[i].bits : 0;
}

size_t data_type_bytes(DataType t, int64_t n) {
    const int bits = data_type_bits(t);
    if (n < 0) fail("negative element count ", n);
    uint64_t total;
    if (__builtin_mul_overflow(static_cast<uint64_t>(n), static_cast<uint64_t>(bits), &total) ||
        total / 8 > std::numeric_limits<size_t>::max() / 2)
        fail(n, " elements of ", data_type_name(t), " overflow the addressable size");
    return static_cast<size_t>((total + 7) / 8);
}

std::string_view attr_type_name(AttrType t) {
    switch (t) {
        case AttrType::UNDEFINED: return "undefined";
        case AttrType::FLOAT: return "float";
        case AttrType::INT: return "int";
        case AttrType::STRING: return "string";
        case AttrType::TENSOR: return "tensor";
        case AttrType::GRAPH: return "graph";
        case AttrType::FLOATS: return "floats";
        case AttrType::INTS: return "ints";
        case AttrType::STRINGS: return "strings";
        case AttrType::TENSORS: return "tensors";
        case AttrType::GRAPHS: return "graphs";
        case AttrType::SPARSE_TENSOR: return "sparse_tensor";
        case AttrType::SPARSE_TENSORS: return "sparse_tensors";
        case AttrType::TYPE_PROTO: return "type_proto";
        case AttrType::TYPE_PROTOS: return "type_protos";
    }
    return "unknown";
}

// Dims come from the file: the product is checked, so a hostile shape cannot wrap.
int64_t Tensor::elements() const {
    int64_t n = 1;
    for (int64_t d : dims) {
        if (d < 0) fail("tensor ", name, ": negative dim ", d);
        if (d != 0 && n > (int64_t{1} << 60) / d)
            fail("tensor ", name, ": dims multiply to more than 2^60 elements; the file is corrupt");
        n *= d;
    }
    return n;
}

bool Tensor::operator==(const Tensor& o) const {
    if (name != o.name || dtype != o.dtype || dims != o.dims || doc_string != o.doc_string ||
        metadata_props != o.metadata_props || storage != o.storage || strings != o.strings)
        return false;
    // External tensors: the values count, not the offsets the writer chose; a tensor
    // without resolved data compares by its external_data entries.
    if (storage == Storage::EXTERNAL && (bytes().data() == nullptr || o.bytes().data() == nullptr))
        return external_data == o.external_data;
    const auto a = bytes(), b = o.bytes();
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

bool Attribute::operator==(const Attribute& o) const {
    // Floats compare by bits, so NaN attributes round-trip as equal.
    auto same_bits = [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; };
    return name == o.name && ref_attr_name == o.ref_attr_name && doc_string == o.doc_string && type == o.type &&
           same_bits(f, o.f) && i == o.i && s == o.s &&
           std::equal(floats.begin(), floats.end(), o.floats.begin(), o.floats.end(), same_bits) && ints == o.ints &&
           strings == o.strings && tensors == o.tensors && graphs == o.graphs && type_protos == o.type_protos;
}

const Attribute* Node::attribute(std::string_view n) const {
    for (const Attribute& a : attributes)
        if (a.name == n) return &a;
    return nullptr;
}

const Tensor* Graph::initializer(std::string_view n) const {
    for (const Tensor& t : initializers)
        if (t.name == n) return &t;
    return nullptr;
}

bool Model::same_as(const Model& o) const {
    return ir_version == o.ir_version && opset_import == o.opset_import && producer_name == o.producer_name &&
           producer_version == o.producer_version && domain == o.domain && model_version == o.model_version &&
           doc_string == o.doc_string && metadata_props == o.metadata_props && graph == o.graph &&
           functions == o.functions;
}

Attribute int_attribute(std::string name, int64_t v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::INT;
    a.i = v;
    return a;
}

Attribute float_attribute(std::string name, float v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::FLOAT;
    a.f = v;
    return a;
}

Attribute ints_attribute(std::string name, std::vector<int64_t> v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::INTS;
    a.ints = std::move(v);
    return a;
}

Tensor owned_tensor(std::string name, DataType t, std::vector<int64_t> dims, std::vector<uint8_t> bytes) {
    Tensor out;
    out.name = std::move(name);
    out.dtype = t;
    out.dims = std::move(dims);
    out.set_owned(std::move(bytes));
    return out;
}

}  // namespace lmx::onnx
