#include "graph/ir.hpp"

#include <ostream>

#include "base/error.hpp"

namespace lmx::graph {

int64_t Tensor::rows() const {
    int64_t r = 1;
    for (size_t i = 0; i + 1 < dims.size(); i++) r *= dims[i];
    return r;
}

int64_t Tensor::elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

ValueId Graph::push(Value v) {
    values_.push_back(std::move(v));
    return static_cast<ValueId>(values_.size() - 1);
}

ValueId Graph::add_input(std::string name, DType dtype, Dims dims) {
    for (int64_t d : dims) dynamic_ = dynamic_ || d == kAnyDim;
    ValueId id = push({std::move(name), ValueKind::input, dtype, std::move(dims), nullptr});
    inputs_.push_back(id);
    return id;
}

ValueId Graph::add_constant(std::string name, DType dtype, Dims dims, const void* data) {
    if (!data) fail("constant '", name, "' has no data");
    return push({std::move(name), ValueKind::constant, dtype, std::move(dims), data});
}

std::vector<ValueId> Graph::add_node(std::shared_ptr<const Op> op, std::vector<ValueId> inputs,
                                     const std::string& name) {
    std::vector<const Value*> in;
    for (ValueId id : inputs) {
        if (id < 0 || static_cast<size_t>(id) >= values_.size())
            fail("node '", name, "' (", op->name(), "): input id ", id, " does not exist");
        in.push_back(&values_[static_cast<size_t>(id)]);
    }
    std::vector<OutputSpec> specs;
    try {
        specs = op->infer(in);
    } catch (const Error& e) {
        fail("node '", name, "' (", op->name(), "): ", e.what());
    }
    Node node{std::move(op), std::move(inputs), {}};
    for (size_t i = 0; i < specs.size(); i++) {
        std::string vname = specs.size() == 1 ? name : name + "." + std::to_string(i);
        node.outputs.push_back(push({vname, ValueKind::intermediate, specs[i].dtype, std::move(specs[i].dims), nullptr}));
    }
    std::vector<ValueId> outs = node.outputs;
    nodes_.push_back(std::move(node));
    return outs;
}

void Graph::set_nodes(std::vector<Node> nodes) {
    if (dynamic_) fail("a graph with run-time shapes cannot be rewritten");
    std::vector<bool> defined(values_.size());
    for (size_t id = 0; id < values_.size(); id++) defined[id] = values_[id].kind != ValueKind::intermediate;
    for (const Node& node : nodes) {
        const std::string name = node.outputs.empty() ? std::string(node.op->name()) : values_.at(static_cast<size_t>(node.outputs[0])).name;
        std::vector<const Value*> in;
        for (ValueId id : node.inputs) {
            if (id < 0 || static_cast<size_t>(id) >= values_.size() || !defined[static_cast<size_t>(id)])
                fail("rewritten node '", name, "' (", node.op->name(), "): input ", id, " is not computed before it");
            in.push_back(&values_[static_cast<size_t>(id)]);
        }
        std::vector<OutputSpec> specs;
        try {
            specs = node.op->infer(in);
        } catch (const Error& e) {
            fail("rewritten node '", name, "' (", node.op->name(), "): ", e.what());
        }
        if (specs.size() != node.outputs.size())
            fail("rewritten node '", name, "' (", node.op->name(), "): ", specs.size(), " outputs for ", node.outputs.size(), " values");
        for (size_t i = 0; i < specs.size(); i++) {
            Value& v = values_.at(static_cast<size_t>(node.outputs[i]));
            if (v.kind != ValueKind::intermediate || defined[static_cast<size_t>(node.outputs[i])])
                fail("rewritten node '", name, "' (", node.op->name(), "): value '", v.name, "' is computed twice");
            v.dtype = specs[i].dtype;
            v.dims = std::move(specs[i].dims);
            defined[static_cast<size_t>(node.outputs[i])] = true;
        }
    }
    for (ValueId id : outputs_)
        if (!defined[static_cast<size_t>(id)]) fail("graph output '", values_[static_cast<size_t>(id)].name, "' is no longer computed");
    nodes_ = std::move(nodes);
}

void Graph::move_constant(ValueId id, const void* data) {
    Value& v = values_.at(static_cast<size_t>(id));
    if (v.kind != ValueKind::constant || !data) fail("value '", v.name, "' is not a constant to move");
    v.data = data;
}

std::vector<ValueId> Graph::add_dynamic_node(std::shared_ptr<const Op> op, std::vector<ValueId> inputs,
                                             const std::vector<std::string>& output_names) {
    for (ValueId id : inputs)
        if (id < 0 || static_cast<size_t>(id) >= values_.size())
            fail("node '", output_names.empty() ? "" : output_names[0], "' (", op->name(), "): input id ", id, " does not exist");
    Node node{std::move(op), std::move(inputs), {}};
    for (const std::string& name : output_names) {
        Value v{name, ValueKind::intermediate, DType::F32, {}, nullptr};
        v.dynamic = true;
        node.outputs.push_back(push(std::move(v)));
    }
    std::vector<ValueId> outs = node.outputs;
    nodes_.push_back(std::move(node));
    dynamic_ = true;
    return outs;
}

ValueId Graph::add_dynamic_input(std::string name, DType dtype) {
    Value v{std::move(name), ValueKind::input, dtype, {}, nullptr};
    v.dynamic = true;
    ValueId id = push(std::move(v));
    inputs_.push_back(id);
    dynamic_ = true;
    return id;
}

ValueId Graph::absent() {
    if (absent_ < 0) absent_ = push({"", ValueKind::absent, DType::F32, {}, nullptr});
    return absent_;
}

ValueId Graph::find(std::string_view name) const {
    for (size_t i = 0; i < values_.size(); i++)
        if (values_[i].name == name) return static_cast<ValueId>(i);
    return -1;
}

std::string dims_to_string(const Dims& d) {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); i++) {
        if (i) s += ", ";
        s += d[i] == kTokens ? "T" : d[i] == kOutputs ? "O" : d[i] == kAnyDim ? "?" : std::to_string(d[i]);
    }
    return s + "]";
}

std::ostream& operator<<(std::ostream& os, DimsText t) { return os << dims_to_string(t.dims); }

}  // namespace lmx::graph
