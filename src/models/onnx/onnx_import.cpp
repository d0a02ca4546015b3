#include "models/onnx/onnx_import.hpp"

#include <cstring>
#include <map>
#include <optional>
#include <unordered_map>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "graph/exec_context.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/fusions.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/binary.hpp"
#include "ops/nd/matmul_nd.hpp"
#include "ops/nd/unary.hpp"

namespace lmx::models {

using namespace onnx_import;

static bool standard_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

static const Entry* find_entry(const onnx::Node& n) {
    const std::span<const Entry> families[] = {elementwise_entries(), math_entries(), reduce_entries(), nn_entries(), shape_entries(), contrib_entries()};
    for (std::span<const Entry> family : families)
        for (const Entry& e : family)
            if (e.op_type == n.op_type && (standard_domain(n.domain) ? e.domain.empty() : e.domain == n.domain)) return &e;
    return nullptr;
}

static std::string op_label(const onnx::Node& n) {
    return standard_domain(n.domain) ? n.op_type : n.domain + "." + n.op_type;
}

std::map<std::string, int> unsupported_ops(const onnx::Graph& g) {
    std::map<std::string, int> missing;
    for (const onnx::Node& n : g.nodes)
        if (n.op_type != "Constant" && !find_entry(n)) missing[op_label(n)]++;
    return missing;
}

// Every op the model uses that lmx lacks, with its node count, as one message.
static void check_supported(const onnx::Graph& g) {
    const std::map<std::string, int> missing = unsupported_ops(g);
    if (missing.empty()) return;
    std::string list;
    for (const auto& [op, count] : missing)
        list += (list.empty() ? "" : ", ") + op + " (" + std::to_string(count) + (count == 1 ? " node)" : " nodes)");
    fail("the model uses ", missing.size(), " op", missing.size() == 1 ? "" : "s", " lmx does not support: ", list);
}

static int64_t opset_of(const onnx::Model& m, const std::string& domain) {
    for (const onnx::OpsetId& o : m.opset_import)
        if (standard_domain(o.domain) ? standard_domain(domain) : o.domain == domain) return o.version;
    return 1;
}

// 4-bit initializers (the weights of MatMulNBits / GatherBlockQuantized models) as the
// uint8 packing those ops read: each row's elements two per byte, low nibble first, so
// the last dim becomes ceil(last / 2) (ONNX packs the flattened tensor instead: rows of
// odd length share bytes there). A signed nibble s becomes s + 8, which the ops' default
// zero point of 8 maps back to s; signed zero points shift the same way.
static graph::ValueId add_4bit_constant(OnnxGraph& out, const onnx::Tensor& t) {
    if (t.dims.empty()) fail("initializer ", shown(t.name), ": a 4-bit scalar is not supported");
    if (!t.has_data()) fail("initializer ", shown(t.name), " has no data (external data file not found?)");
    const std::span<const uint8_t> packed = t.bytes();
    const int64_t last = t.dims.back(), rows = last ? t.elements() / last : 0, row_bytes = (last + 1) / 2;
    const uint8_t flip = t.dtype == onnx::DataType::INT4 ? 8 : 0;
    std::vector<uint8_t> bytes(static_cast<size_t>(std::max<int64_t>(rows * row_bytes, 1)), 0);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < last; c++) {
            const int64_t e = r * last + c;
            const uint8_t nibble = static_cast<uint8_t>(((packed[static_cast<size_t>(e / 2)] >> (4 * (e % 2))) & 15) ^ flip);
            bytes[static_cast<size_t>(r * row_bytes + c / 2)] |= static_cast<uint8_t>(nibble << (4 * (c % 2)));
        }
    out.owned.push_back(std::move(bytes));
    graph::Dims dims = t.dims;
    dims.back() = row_bytes;
    return out.graph.add_constant(t.name, DType::U8, std::move(dims), out.owned.back().data());
}

// A constant's bytes: the file's own when aligned for the element type, else an aligned copy.
static graph::ValueId add_constant(OnnxGraph& out, const onnx::Tensor& t) {
    if (t.dtype == onnx::DataType::INT4 || t.dtype == onnx::DataType::UINT4) return add_4bit_constant(out, t);
    const DType dtype = onnx_import::to_dtype(t.dtype);
    if (!t.has_data()) fail("initializer ", shown(t.name), " has no data (external data file not found?)");
    std::span<const uint8_t> bytes = t.bytes();
    const size_t elem = dtype_info(dtype).block_bytes;
    const void* data = bytes.data();
    if (bytes.empty() || reinterpret_cast<uintptr_t>(data) % elem != 0) {
        out.owned.emplace_back(bytes.begin(), bytes.end());
        out.owned.back().resize(std::max<size_t>(bytes.size(), 1));  // never null, even for 0 elements
        data = out.owned.back().data();
    }
    if (bytes.size() != dtype_row_bytes(dtype, t.elements())) fail("initializer ", shown(t.name), " has ", bytes.size(), " bytes for ", t.elements(), " elements");
    return out.graph.add_constant(t.name, dtype, t.dims, data);
}

// Constant nodes: a tensor, or one of the value_* shorthands (opset 12+).
static graph::ValueId add_constant_node(OnnxGraph& out, const onnx::Node& n) {
    NodeContext ctx(n, 0);
    if (n.outputs.size() != 1) fail("a Constant has one output");
    if (const onnx::Tensor* t = ctx.get_tensor("value")) {
        onnx::Tensor named = *t;
        named.name = n.outputs[0];
        return add_constant(out, named);
    }
    auto store = [&](DType dtype, graph::Dims dims, const void* src, size_t bytes) {
        out.owned.emplace_back(std::max<size_t>(bytes, 1));
        std::memcpy(out.owned.back().data(), src, bytes);
        return out.graph.add_constant(n.outputs[0], dtype, std::move(dims), out.owned.back().data());
    };
    if (ctx.has("value_float")) { float f = ctx.get_float("value_float", 0); return store(DType::F32, {}, &f, 4); }
    if (ctx.has("value_int")) { int64_t i = ctx.get_int("value_int", 0); return store(DType::I64, {}, &i, 8); }
    if (auto fs = ctx.get_floats("value_floats")) return store(DType::F32, {static_cast<int64_t>(fs->size())}, fs->data(), fs->size() * 4);
    if (auto is = ctx.get_ints("value_ints")) return store(DType::I64, {static_cast<int64_t>(is->size())}, is->data(), is->size() * 8);
    fail("a Constant without a supported value attribute (value, value_float(s), value_int(s))");
}

// A node's inputs as NodeContext sees them: the values of the named inputs, nullptr where
// the name is empty.
static std::vector<const graph::Value*> input_values(const OnnxGraph& out, const std::unordered_map<std::string, graph::ValueId>& ids,
                                                     const onnx::Node& n) {
    std::vector<const graph::Value*> values;
    for (const std::string& name : n.inputs) {
        auto it = name.empty() ? ids.end() : ids.find(name);
        values.push_back(it == ids.end() ? nullptr : &out.graph.value(it->second));
    }
    return values;
}

// Adds one grouped op for sibling MatMulNBits nodes when they all qualify
// (ops::nd::matmul_nbits_group), marking the later members absorbed; false leaves them
// to be imported one by one.
static bool add_matmul_nbits_group(OnnxGraph& out, std::unordered_map<std::string, graph::ValueId>& ids, const std::vector<size_t>& members,
                                   std::vector<bool>& absorbed) {
    const onnx::Graph& g = out.file.graph;
    std::vector<NodeContext> contexts;
    for (size_t m : members) {
        const onnx::Node& n = g.nodes[m];
        for (const std::string& in : n.inputs)
            if (!in.empty() && !ids.count(in)) return false;  // a weight computed by a later node
        contexts.emplace_back(n, opset_of(out.file, n.domain), input_values(out, ids, n));
    }
    ops::OpPtr op = onnx_import::matmul_nbits_group(contexts);
    if (!op) return false;
    graph::Graph& ir = out.graph;
    std::vector<graph::ValueId> inputs = {ids.at(g.nodes[members[0]].inputs[0])};
    std::vector<std::string> names;
    for (size_t m : members) {
        const onnx::Node& n = g.nodes[m];
        for (size_t i = 1; i <= 3; i++) inputs.push_back(i < n.inputs.size() && !n.inputs[i].empty() ? ids.at(n.inputs[i]) : ir.absent());
        names.push_back(n.outputs[0]);
        absorbed[m] = true;
    }
    const std::vector<graph::ValueId> outs = ir.add_dynamic_node(std::move(op), std::move(inputs), names);
    for (size_t i = 0; i < names.size(); i++) ids[names[i]] = outs[i];
    return true;
}

// Constant folding, as onnxruntime does at load: a node of these ops whose inputs are all
// constants runs once here and its outputs become constants. Weight-only quantized exports
// (int8 -> Cast -> Mul by a per-column scale -> MatMul) then hand their MatMuls f32
// weights to pack, instead of dequantizing every weight on every run. Only exact
// arithmetic and data movement: no transcendental op, so the folded bytes are the same
// on every CPU and in deterministic mode.
static bool foldable(const onnx::Node& n) {
    static const char* const ops[] = {"Cast", "Mul", "Add", "Sub", "Div", "Neg", "Transpose", "Reshape", "Unsqueeze", "Squeeze",
                                      "Flatten", "Concat", "Slice", "Gather", "Identity", "DequantizeLinear"};
    if (!standard_domain(n.domain) || n.inputs.empty()) return false;
    for (const char* op : ops)
        if (n.op_type == op) return true;
    return false;
}

constexpr size_t kMaxFoldedBytes = size_t{1} << 30;  // a larger result is left to run time

// The buffers of folded constants, freed once their last reader is imported by an op that
// keeps no pointer to them (a Cast's result once the next Mul folded it, weights once a
// dense op holds them as panels): a weight-only int8 export would otherwise hold three
// f32 copies of its weights. A freed value stays in the graph, unread.
class FoldedBuffers {
public:
    explicit FoldedBuffers(const onnx::Graph& g) {
        for (const onnx::Node& n : g.nodes)
            for (const std::string& in : n.inputs) readers_[in]++;
        for (const onnx::ValueInfo& o : g.outputs) readers_[o.name]++;
    }
    void add(const std::string& name, size_t buffer) { buffer_[name] = buffer; }
    // A node's inputs were read for the last time by it.
    void read(OnnxGraph& out, const std::vector<std::string>& names) {
        for (const std::string& name : names) {
            auto b = buffer_.find(name);
            if (b != buffer_.end() && --readers_[name] == 0) std::vector<uint8_t>().swap(out.owned[b->second]);
        }
    }

private:
    std::unordered_map<std::string, int> readers_;
    std::unordered_map<std::string, size_t> buffer_;
};

// The folded outputs' constants, or nothing when an input is not constant or a result is too large.
static std::optional<std::vector<graph::ValueId>> fold(OnnxGraph& out, const ops::OpPtr& op, const std::vector<graph::ValueId>& inputs,
                                                       const std::vector<std::string>& names, FoldedBuffers& folded) {
    graph::Graph& ir = out.graph;
    std::vector<const graph::Value*> values;
    std::vector<graph::Tensor> in;
    for (graph::ValueId id : inputs) {
        const graph::Value& v = ir.value(id);
        if (v.kind != graph::ValueKind::constant && v.kind != graph::ValueKind::absent) return std::nullopt;
        values.push_back(&v);
        in.push_back({v.dtype, v.dims, const_cast<void*>(v.data)});
    }
    const std::vector<graph::OutputSpec> specs = op->infer(values);
    if (specs.size() != names.size()) fail("gives ", specs.size(), " outputs, the node has ", names.size());
    std::vector<graph::Tensor> results;
    std::vector<std::vector<uint8_t>> buffers;
    for (const graph::OutputSpec& s : specs) {
        int64_t rows = 1;
        for (size_t i = 0; i + 1 < s.dims.size(); i++) rows *= s.dims[i];
        const size_t bytes = static_cast<size_t>(rows) * dtype_row_bytes(s.dtype, s.dims.empty() ? 1 : s.dims.back());
        if (rows < 0 || bytes > kMaxFoldedBytes) return std::nullopt;
        std::vector<uint8_t>& b = buffers.emplace_back(bytes + 64);
        uint8_t* data = b.data() + (64 - reinterpret_cast<uintptr_t>(b.data()) % 64) % 64;
        results.push_back({s.dtype, s.dims, data});
    }
    ThreadPool pool(1);
    graph::ExecContext ctx(pool, kernels::best_table());
    op->run(ctx, in, results);
    std::vector<graph::ValueId> ids;
    for (size_t i = 0; i < results.size(); i++) {
        const size_t buffer = out.owned.size();
        out.owned.push_back(std::move(buffers[i]));  // the heap block, and so results[i].data, stays put
        ids.push_back(ir.add_constant(names[i], results[i].dtype, results[i].dims, results[i].data));
        folded.add(names[i], buffer);
    }
    return ids;
}

// A dense layer's fusion (fusions.hpp), inputs x, w, bias: ops::dense over w's panels when
// w is a constant 2-D f32 [K, N] and the bias f32 [N] (also in bf16 when asked); else its
// MatMul, Add and GELU as nodes.
static graph::ValueId add_dense(OnnxGraph& out, const Fusion& f, const std::vector<graph::ValueId>& inputs, bool bf16, FoldedBuffers& folded) {
    graph::Graph& ir = out.graph;
    const graph::Value &w = ir.value(inputs[1]), &b = ir.value(inputs[2]);
    const std::string& name = f.outputs.at(0);
    if (w.kind == graph::ValueKind::constant && w.dtype == DType::F32 && w.dims.size() == 2 && b.kind == graph::ValueKind::constant &&
        b.dtype == DType::F32 && b.dims == graph::Dims{w.dims[1]}) {
        const int64_t k = w.dims[0], n = w.dims[1];
        const std::shared_ptr<const std::vector<float>> panels = f32_panels_of(&out.file, &w, false);
        const auto* bytes = reinterpret_cast<const uint8_t*>(panels->data());
        out.owned.emplace_back(bytes, bytes + panels->size() * sizeof(float));
        const graph::ValueId wp = ir.add_constant(name + "/panels", DType::F32, {kernels::f32_panels(n), k, kernels::kF32Panel}, out.owned.back().data());
        std::shared_ptr<std::vector<uint32_t>> w16;
        if (bf16 && kernels::best_table().gemm_bf16_panels) {
            w16 = std::make_shared<std::vector<uint32_t>>(static_cast<size_t>(kernels::f32_panels(n) * ((k + 1) / 2) * kernels::kF32Panel));
            kernels::pack_bf16_panels(panels->data(), n, k, w16->data());
        }
        folded.read(out, {f.inputs[1]});
        return ir.add_dynamic_node(ops::dense(n, f.gelu, std::move(w16)), {inputs[0], wp, inputs[2]}, f.outputs).at(0);
    }
    const graph::ValueId mm = ir.add_dynamic_node(ops::nd::matmul(), {inputs[0], inputs[1]}, {name + "/matmul"}).at(0);
    const graph::ValueId y = ir.add_dynamic_node(ops::nd::binary(ops::nd::BinaryKind::add), {mm, inputs[2]}, {f.gelu ? name + "/bias" : name}).at(0);
    return f.gelu ? ir.add_dynamic_node(ops::nd::unary(ops::nd::UnaryKind::gelu), {y}, f.outputs).at(0) : y;
}

// MatMulNBits nodes (com.microsoft) that read the same A: a layer's q, k and v, its gate
// and up. Per first member, every member's node index, in order (groups of two or more).
static std::map<size_t, std::vector<size_t>> matmul_nbits_siblings(const onnx::Graph& g) {
    std::map<std::string, std::vector<size_t>> by_a;
    for (size_t i = 0; i < g.nodes.size(); i++) {
        const onnx::Node& n = g.nodes[i];
        if (n.op_type == "MatMulNBits" && n.domain == "com.microsoft" && !n.inputs.empty() && n.outputs.size() == 1)
            by_a[n.inputs[0]].push_back(i);
    }
    std::map<size_t, std::vector<size_t>> groups;
    for (auto& [a, members] : by_a)
        if (members.size() >= 2) groups[members[0]] = std::move(members);
    return groups;
}

std::unique_ptr<OnnxGraph> import_onnx(onnx::Model model, const ImportOptions& opts) {
    auto out = std::make_unique<OnnxGraph>();
    out->file = std::move(model);
    const onnx::Graph& g = out->file.graph;
    graph::Graph& ir = out->graph;
    check_supported(g);

    std::unordered_map<std::string, graph::ValueId> ids;
    for (const onnx::Tensor& t : g.initializers) ids[t.name] = add_constant(*out, t);
    for (const onnx::ValueInfo& in : g.inputs) {
        if (ids.count(in.name)) continue;  // before IR 4, initializers are listed as inputs too
        if (in.type.kind != onnx::TypeProto::Kind::TENSOR)
            fail("input ", shown(in.name), " is a sequence, map or optional, which lmx does not support (tensors only)");
        const DType dtype = onnx_import::to_dtype(in.type.elem_type);
        if (!in.type.has_shape) {
            ids[in.name] = ir.add_dynamic_input(in.name, dtype);
            continue;
        }
        graph::Dims dims;
        for (const onnx::Dim& d : in.type.shape) dims.push_back(d.value && *d.value >= 0 ? *d.value : graph::kAnyDim);
        ids[in.name] = ir.add_input(in.name, dtype, std::move(dims));
    }
    const std::map<size_t, size_t> fused = transposes_into_matmul(g);
    std::vector<bool> absorbed(g.nodes.size(), false);
    for (const auto& [mm, t] : fused) absorbed[t] = true;
    const std::map<size_t, std::vector<size_t>> siblings = matmul_nbits_siblings(g);
    const std::map<size_t, Fusion> fusions = find_fusions(g, absorbed);
    FoldedBuffers folded_buffers(g);
    for (size_t ni = 0; ni < g.nodes.size(); ni++) {
        const onnx::Node& n = g.nodes[ni];
        if (absorbed[ni]) continue;  // its MatMul reads the untransposed input, or a fused op does its work
        const std::string label = "node " + shown(n.name.empty() ? (n.outputs.empty() ? "" : n.outputs[0]) : n.name) + " (" + op_label(n) + ")";
        try {
            if (n.op_type == "Constant" && standard_domain(n.domain)) {
                ids[n.outputs.at(0)] = add_constant_node(*out, n);
                continue;
            }
            if (auto f = fused.find(ni); f != fused.end()) {
                auto b = ids.find(g.nodes[f->second].inputs.at(0)), a = ids.find(n.inputs[0]);
                if (a == ids.end() || b == ids.end()) fail("an input is not produced by an earlier node or the graph inputs");
                const ops::OpPtr mm = ops::nd::matmul(true, f32_panels_of(&out->file, &ir.value(b->second), true));
                ids[n.outputs.at(0)] = ir.add_dynamic_node(mm, {a->second, b->second}, n.outputs).at(0);
                continue;
            }
            if (auto f = fusions.find(ni); f != fusions.end()) {
                std::vector<graph::ValueId> inputs;
                for (const std::string& name : f->second.inputs) {
                    auto it = ids.find(name);
                    if (it == ids.end()) fail("input ", shown(name), " is not produced by an earlier node or the graph inputs");
                    inputs.push_back(it->second);
                }
                if (f->second.dense) {
                    ids[f->second.outputs.at(0)] = add_dense(*out, f->second, inputs, opts.bf16, folded_buffers);
                    continue;
                }
                const std::vector<graph::ValueId> outs = ir.add_dynamic_node(f->second.op, std::move(inputs), f->second.outputs);
                for (size_t i = 0; i < outs.size(); i++) ids[f->second.outputs[i]] = outs[i];
                continue;
            }
            if (auto sib = siblings.find(ni); sib != siblings.end() && add_matmul_nbits_group(*out, ids, sib->second, absorbed)) continue;
            std::vector<graph::ValueId> inputs;
            size_t used = n.inputs.size();
            while (used > 0 && n.inputs[used - 1].empty()) used--;  // trailing omitted inputs
            for (size_t i = 0; i < used; i++) {
                if (n.inputs[i].empty()) { inputs.push_back(ir.absent()); continue; }
                auto it = ids.find(n.inputs[i]);
                if (it == ids.end()) fail("input ", shown(n.inputs[i]), " is not produced by an earlier node or the graph inputs");
                inputs.push_back(it->second);
            }
            // after the loop above: absent() may add a value, moving the others
            ops::OpPtr op = find_entry(n)->make(NodeContext(n, opset_of(out->file, n.domain), input_values(*out, ids, n), &out->file));
            std::optional<std::vector<graph::ValueId>> folded;
            if (foldable(n) && (folded = fold(*out, op, inputs, n.outputs, folded_buffers))) folded_buffers.read(*out, n.inputs);
            std::vector<graph::ValueId> outs = folded ? *folded : ir.add_dynamic_node(std::move(op), std::move(inputs), n.outputs);
            for (size_t i = 0; i < outs.size(); i++)
                if (!n.outputs[i].empty()) ids[n.outputs[i]] = outs[i];
        } catch (const Error& e) {
            fail(label, ": ", e.what());
        }
    }
    for (const onnx::ValueInfo& o : g.outputs) {
        auto it = ids.find(o.name);
        if (it == ids.end()) fail("graph output ", shown(o.name), " is not produced by any node");
        ir.mark_output(it->second);
    }
    return out;
}

}  // namespace lmx::models
