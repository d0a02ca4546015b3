#pragma once
// The one IR every model format is lowered to: values (inputs, constant weights,
// intermediates) connected by nodes whose ops are small self-describing objects.
// Shapes are checked when a node is added, not in the hot loop; the only
// run-time-sized dims are the symbolic ones below.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.hpp"

namespace lmx::graph {

// Symbolic dims, bound per run by the executor.
constexpr int64_t kTokens = -1;   // tokens in the batch
constexpr int64_t kOutputs = -2;  // tokens whose outputs (logits) were requested
constexpr int64_t kAnyDim = -3;   // an input dim of any size (ONNX's symbolic dims)

using ValueId = int32_t;
using Dims = std::vector<int64_t>;  // row-major: dims.back() is contiguous

// absent: an omitted optional input; the op sees a Tensor whose data is nullptr.
enum class ValueKind { input, constant, intermediate, absent };

struct Value {
    std::string name;
    ValueKind kind = ValueKind::intermediate;
    DType dtype = DType::F32;
    Dims dims;
    const void* data = nullptr;  // constants only: the weight bytes (usually in the mapped model file)
    // dtype and dims known only at run time (ONNX graphs, whose shapes may depend on
    // computed values): the executor infers them node by node as it runs, and an op's
    // infer() then also sees its inputs' data.
    bool dynamic = false;
};

// A value bound to memory during a run, with its symbolic dims resolved.
struct Tensor {
    DType dtype = DType::F32;
    Dims dims;
    void* data = nullptr;

    int64_t rows() const;  // product of all dims but the last
    int64_t cols() const { return dims.empty() ? 1 : dims.back(); }
    int64_t elements() const;
    template <class T> T* as() const { return static_cast<T*>(data); }
};

struct ExecContext;

struct OutputSpec {
    DType dtype;
    Dims dims;
};

class Op {
public:
    virtual ~Op() = default;
    virtual std::string_view name() const = 0;
    // Output dtypes and dims from the inputs'; throws lmx::Error on a mismatch.
    virtual std::vector<OutputSpec> infer(std::span<const Value* const> inputs) const = 0;
    virtual void run(ExecContext& ctx, std::span<const Tensor> inputs, std::span<Tensor> outputs) const = 0;
    // The input whose buffer output 0 may take over when this node is its last reader, or
    // -1. An op says so only if it reads each element of that input before it writes the
    // same place of output 0 (elementwise ops, RoPE), so a run needs no second buffer.
    virtual int in_place_input() const { return -1; }
};

struct Node {
    std::shared_ptr<const Op> op;
    std::vector<ValueId> inputs;
    std::vector<ValueId> outputs;
};

class Graph {
public:
    ValueId add_input(std::string name, DType dtype, Dims dims);
    ValueId add_constant(std::string name, DType dtype, Dims dims, const void* data);
    // Adds a node and returns its outputs' ids (named after `name`, suffixed when several).
    std::vector<ValueId> add_node(std::shared_ptr<const Op> op, std::vector<ValueId> inputs, const std::string& name);
    ValueId add(std::shared_ptr<const Op> op, std::vector<ValueId> inputs, const std::string& name) {
        return add_node(std::move(op), std::move(inputs), name).at(0);
    }
    // A node whose outputs' dtypes and dims are inferred when the graph runs, one output per name.
    std::vector<ValueId> add_dynamic_node(std::shared_ptr<const Op> op, std::vector<ValueId> inputs,
                                          const std::vector<std::string>& output_names);
    // An input of unknown rank (its dims are bound when the graph runs).
    ValueId add_dynamic_input(std::string name, DType dtype);
    ValueId absent();  // the one placeholder for omitted optional inputs
    bool dynamic() const { return dynamic_; }  // some value's shape is known only at run time
    void mark_output(ValueId id) { outputs_.push_back(id); }
    // A pass's rewrite (ops/passes.hpp): the new node list replaces the old, and every
    // node's outputs are inferred again in order, so a fused op's output types replace the
    // ones its value had. Each input must be a graph input, a constant or an earlier node's
    // output; values no node produces any more stay, unread. Static graphs only.
    void set_nodes(std::vector<Node> nodes);
    // Points constant id at another copy of its bytes (one in faster memory).
    void move_constant(ValueId id, const void* data);

    const Value& value(ValueId id) const { return values_.at(static_cast<size_t>(id)); }
    const std::vector<Value>& values() const { return values_; }
    const std::vector<Node>& nodes() const { return nodes_; }
    const std::vector<ValueId>& inputs() const { return inputs_; }
    const std::vector<ValueId>& outputs() const { return outputs_; }
    ValueId find(std::string_view name) const;  // -1 when absent

private:
    ValueId push(Value v);
    std::vector<Value> values_;
    std::vector<Node> nodes_;
    std::vector<ValueId> inputs_, outputs_;
    ValueId absent_ = -1;
    bool dynamic_ = false;
};

// Dims as text, "[2, T, 64]", for error messages.
std::string dims_to_string(const Dims& d);
// The same text, made only when streamed: for the message parts of require(ok, ...), which
// are evaluated on every call, also when the check passes.
struct DimsText {
    const Dims& dims;
};
inline DimsText dims_text(const Dims& d) { return {d}; }
std::ostream& operator<<(std::ostream& os, DimsText t);

}  // namespace lmx::graph
