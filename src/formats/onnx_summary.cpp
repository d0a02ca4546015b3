#include "formats/onnx_summary.hpp"

#include <map>
#include <set>

namespace lmx::onnx {

using nlohmann::json;

namespace {

json dim_json(const Dim& d) {
    if (d.value) return *d.value;
    if (!d.param.empty()) return d.param;
    return nullptr;
}

std::string dim_string(const Dim& d) {
    if (d.value) return std::to_string(*d.value);
    return d.param.empty() ? "?" : d.param;
}

json value_json(const ValueInfo& v) {
    json j = {{"name", v.name}, {"type", type_string(v.type)}};
    if (v.type.kind == TypeProto::Kind::TENSOR) {
        j["dtype"] = std::string(data_type_name(v.type.elem_type));
        if (v.type.has_shape) {
            json s = json::array();
            for (const Dim& d : v.type.shape) s.push_back(dim_json(d));
            j["shape"] = s;
        } else {
            j["shape"] = nullptr;
        }
    }
    return j;
}

std::string op_key(const Node& n) {
    if (n.domain.empty() || n.domain == "ai.onnx") return n.op_type;
    return n.domain + "::" + n.op_type;
}

void count_ops(const std::vector<Node>& nodes, std::map<std::string, int64_t>& ops, int64_t& subgraphs) {
    for (const Node& n : nodes) {
        ++ops[op_key(n)];
        for (const Attribute& a : n.attributes)
            for (const Graph& sub : a.graphs) {
                ++subgraphs;
                count_ops(sub.nodes, ops, subgraphs);
            }
    }
}

// The graph inputs that are real inputs: before IR version 4 initializers are listed
// as inputs too.
std::vector<const ValueInfo*> real_inputs(const Model& m) {
    std::set<std::string_view> inits;
    for (const Tensor& t : m.graph.initializers) inits.insert(t.name);
    std::vector<const ValueInfo*> out;
    for (const ValueInfo& v : m.graph.inputs)
        if (!inits.count(v.name)) out.push_back(&v);
    return out;
}

const ValueInfo* find(const std::vector<ValueInfo>& v, std::string_view name) {
    for (const ValueInfo& x : v)
        if (x.name == name) return &x;
    return nullptr;
}

}  // namespace

std::string type_string(const TypeProto& t) {
    switch (t.kind) {
        case TypeProto::Kind::NONE: return "?";
        case TypeProto::Kind::SEQUENCE: return "sequence<" + (t.elem.empty() ? "?" : type_string(t.elem[0])) + ">";
        case TypeProto::Kind::OPTIONAL: return "optional<" + (t.elem.empty() ? "?" : type_string(t.elem[0])) + ">";
        case TypeProto::Kind::MAP:
            return "map<" + std::string(data_type_name(t.key_type)) + ", " + (t.elem.empty() ? "?" : type_string(t.elem[0])) + ">";
        case TypeProto::Kind::TENSOR:
        case TypeProto::Kind::SPARSE_TENSOR: {
            std::string s = t.kind == TypeProto::Kind::SPARSE_TENSOR ? "sparse " : "";
            s += data_type_name(t.elem_type);
            if (!t.has_shape) return s + "[...]";
            s += "[";
            for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + dim_string(t.shape[i]);
            return s + "]";
        }
    }
    return "?";
}

std::vector<std::string> shape_warnings(const Model& m) {
    std::vector<std::string> w;
    for (const ValueInfo* v : real_inputs(m)) {
        const TypeProto& t = v->type;
        if (t.kind == TypeProto::Kind::TENSOR && t.has_shape && !t.shape.empty() && t.shape[0].value == 1)
            w.push_back("input '" + v->name + "' " + type_string(t) +
                        " has a fixed first dim of 1: static shapes force batch size 1 (re-export with a dynamic "
                        "batch axis)");
    }
    const ValueInfo* ids = find(m.graph.inputs, "input_ids");
    const ValueInfo* logits = find(m.graph.outputs, "logits");
    if (ids && logits) {
        const TypeProto& a = ids->type;
        const TypeProto& b = logits->type;
        if (a.kind != TypeProto::Kind::TENSOR || b.kind != TypeProto::Kind::TENSOR || !a.has_shape || !b.has_shape ||
            a.shape.empty() || b.shape.empty()) {
            w.push_back("cannot check that logits share the batch dim of input_ids: a shape is missing");
        } else {
            const Dim& x = a.shape[0];
            const Dim& y = b.shape[0];
            const bool same = (x.value && y.value && *x.value == *y.value) ||
                              (!x.value && !y.value && !x.param.empty() && x.param == y.param);
            if (!same)
                w.push_back("logits " + type_string(b) + " do not share the batch dim of input_ids " + type_string(a) +
                            " ('" + dim_string(y) + "' vs '" + dim_string(x) + "')");
        }
    }
    return w;
}

json summarize(const Model& m) {
    json j;
    j["path"] = m.path();
    j["format"] = "onnx";
    j["file_bytes"] = m.file_size();
    j["ir_version"] = m.ir_version;
    j["producer"] = {{"name", m.producer_name}, {"version", m.producer_version}};
    if (!m.domain.empty()) j["domain"] = m.domain;
    if (m.model_version) j["model_version"] = m.model_version;
    json opsets = json::array();
    for (const OpsetId& o : m.opset_import) opsets.push_back({{"domain", o.domain.empty() ? "ai.onnx" : o.domain}, {"version", o.version}});
    j["opset_import"] = opsets;
    json meta = json::object();
    for (const auto& [k, v] : m.metadata_props) meta[k] = v;
    j["metadata"] = meta;
    json inputs = json::array(), outputs = json::array();
    for (const ValueInfo* v : real_inputs(m)) inputs.push_back(value_json(*v));
    for (const ValueInfo& v : m.graph.outputs) outputs.push_back(value_json(v));
    j["inputs"] = inputs;
    j["outputs"] = outputs;

    std::map<std::string, int64_t> ops;
    int64_t subgraphs = 0;
    count_ops(m.graph.nodes, ops, subgraphs);
    for (const Function& f : m.functions) count_ops(f.nodes, ops, subgraphs);  // what their bodies need
    j["nodes"] = m.graph.nodes.size();
    j["subgraphs"] = subgraphs;
    json hist = json::object();
    for (const auto& [k, n] : ops) hist[k] = n;
    j["op_histogram"] = hist;

    std::map<std::string, std::pair<int64_t, uint64_t>> by_dtype;
    uint64_t total = 0;
    for (const Tensor& t : m.graph.initializers) {
        const uint64_t b = t.dtype == DataType::STRING ? 0 : data_type_bytes(t.dtype, t.elements());
        auto& e = by_dtype[std::string(data_type_name(t.dtype))];
        ++e.first;
        e.second += b;
        total += b;
    }
    json dt = json::object();
    for (const auto& [k, e] : by_dtype) dt[k] = {{"count", e.first}, {"bytes", e.second}};
    j["initializers"] = {{"count", m.graph.initializers.size()}, {"bytes", total}, {"by_dtype", dt}};
    j["external_data_files"] = m.external_files();
    json fns = json::array();
    for (const Function& f : m.functions) fns.push_back(f.domain.empty() ? f.name : f.domain + "::" + f.name);
    j["local_functions"] = fns;
    j["warnings"] = shape_warnings(m);
    return j;
}

}  // namespace lmx::onnx
