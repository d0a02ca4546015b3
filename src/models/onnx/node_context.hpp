#pragma once
// What the importer of one ONNX op sees: the node, the opset its domain is imported at
// (attribute and input conventions change between opsets), and typed attribute
// readers (the importer prefixes their errors with the node). Each op family (onnx/ops_*.cpp) lists its
// importers as a table of Entry; onnx_import.cpp looks node types up in all of them.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/onnx.hpp"
#include "graph/ir.hpp"
#include "ops/ops.hpp"

namespace lmx::models::onnx_import {

class NodeContext {
public:
    NodeContext(const onnx::Node& n, int64_t opset, std::vector<const graph::Value*> inputs = {}, const onnx::Model* file = nullptr)
        : node(n), opset(opset), file(file), inputs_(std::move(inputs)) {}

    const onnx::Node& node;
    const int64_t opset;
    const onnx::Model* file;  // the model being imported (where its weights are mapped)
    // Input i when it is a constant (an initializer or Constant node: its data is known
    // at import), else nullptr.
    const graph::Value* constant_input(size_t i) const {
        return i < inputs_.size() && inputs_[i] && inputs_[i]->data ? inputs_[i] : nullptr;
    }
    size_t n_inputs() const { return node.inputs.size(); }
    size_t n_outputs() const { return node.outputs.size(); }

    bool has(std::string_view name) const { return node.attribute(name) != nullptr; }
    int64_t get_int(std::string_view name, int64_t fallback) const;
    float get_float(std::string_view name, float fallback) const;
    std::string get_string(std::string_view name, std::string fallback) const;
    std::optional<std::vector<int64_t>> get_ints(std::string_view name) const;
    std::optional<std::vector<float>> get_floats(std::string_view name) const;
    const onnx::Tensor* get_tensor(std::string_view name) const;
    int64_t require_int(std::string_view name) const;

private:
    const onnx::Attribute* typed(std::string_view name, onnx::AttrType t) const;
    std::vector<const graph::Value*> inputs_;
};

// A constant 2-D f32 MatMul b ([K, N], or [N, K] when trans_b) packed for the panel GEMM
// (ops::nd::matmul's panels), its pages in the file given back (file may be nullptr);
// nullptr for anything else.
std::shared_ptr<const std::vector<float>> f32_panels_of(const onnx::Model* file, const graph::Value* b, bool trans_b);

using Factory = ops::OpPtr (*)(const NodeContext&);
struct Entry {
    std::string_view domain;   // "" for the standard ops, "com.microsoft"
    std::string_view op_type;
    Factory make;
};

// The element type an ONNX DataType is held in; throws for one lmx cannot hold.
DType to_dtype(onnx::DataType t);

// The op families; each is a table in its own file.
std::span<const Entry> elementwise_entries();
std::span<const Entry> shape_entries();
std::span<const Entry> math_entries();
std::span<const Entry> reduce_entries();
std::span<const Entry> nn_entries();
std::span<const Entry> contrib_entries();

// MatMulNBits nodes that read the same A as one op (ops::nd::matmul_nbits_group), or
// nullptr when they cannot be (some weight not repacked for this CPU, a bias or g_idx,
// another K or block_size).
ops::OpPtr matmul_nbits_group(std::span<const NodeContext> members);

}  // namespace lmx::models::onnx_import
