#include "graph/executor.hpp"

#include <algorithm>
#include <chrono>
#include <new>

#include "base/error.hpp"

namespace lmx::graph {

static constexpr size_t kAlign = 64;

void* ExecContext::scratch(size_t bytes) {
    if (scratch_.size() < bytes + kAlign) scratch_.resize(bytes + kAlign);
    uintptr_t p = reinterpret_cast<uintptr_t>(scratch_.data());
    return scratch_.data() + ((kAlign - p % kAlign) % kAlign);
}

Executor::Executor(const Graph& g) : g_(g), last_use_(g.values().size(), -1) {
    for (size_t n = 0; n < g.nodes().size(); n++)
        for (ValueId id : g.nodes()[n].inputs) last_use_[static_cast<size_t>(id)] = static_cast<int>(n);
    for (ValueId id : g.outputs()) last_use_[static_cast<size_t>(id)] = static_cast<int>(g.nodes().size());
}

Dims Executor::resolve(const Dims& d) const {
    Dims r = d;
    for (int64_t& x : r) x = x == kTokens ? plan_.n_tokens : x == kOutputs ? plan_.n_outputs : x;
    return r;
}

static size_t tensor_bytes(DType t, const Dims& dims) {
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < dims.size(); i++) rows *= dims[i];
    const size_t row = dtype_row_bytes(t, dims.empty() ? 1 : dims.back());
    return (static_cast<size_t>(rows) * row + kAlign - 1) / kAlign * kAlign;
}

// The input whose buffer node n's output 0 takes over (Op::in_place_input), or -1: an
// intermediate read by no later node, nor twice by this one, of output 0's size.
ValueId Executor::in_place_source(const Node& node, int n) const {
    const int i = node.op->in_place_input();
    if (i < 0 || static_cast<size_t>(i) >= node.inputs.size() || node.outputs.empty()) return -1;
    const ValueId in = node.inputs[static_cast<size_t>(i)];
    const Value& v = g_.value(in);
    const Value& out = g_.value(node.outputs[0]);
    if (v.kind != ValueKind::intermediate || last_use_[static_cast<size_t>(in)] != n) return -1;
    if (std::count(node.inputs.begin(), node.inputs.end(), in) != 1) return -1;
    if (tensor_bytes(v.dtype, resolve(v.dims)) != tensor_bytes(out.dtype, resolve(out.dims))) return -1;
    return in;
}

// Greedy first-fit over a list of free blocks: a value's buffer is released after
// the last node that reads it, so later nodes reuse it.
void Executor::make_plan(int64_t n_tokens, int64_t n_outputs) {
    plan_.valid = true;
    plan_.n_tokens = n_tokens;
    plan_.n_outputs = n_outputs;
    plan_.offset.assign(g_.values().size(), 0);
    struct Block { size_t offset, size; };
    std::vector<Block> free_blocks;
    size_t top = 0;
    auto allocate = [&](size_t size) {
        for (size_t i = 0; i < free_blocks.size(); i++) {
            if (free_blocks[i].size < size) continue;
            size_t off = free_blocks[i].offset;
            free_blocks[i].offset += size;
            free_blocks[i].size -= size;
            if (free_blocks[i].size == 0) free_blocks.erase(free_blocks.begin() + static_cast<long>(i));
            return off;
        }
        size_t off = top;
        top += size;
        return off;
    };
    auto release = [&](size_t off, size_t size) {
        free_blocks.push_back({off, size});
        std::sort(free_blocks.begin(), free_blocks.end(), [](const Block& a, const Block& b) { return a.offset < b.offset; });
        std::vector<Block> merged;
        for (const Block& b : free_blocks) {
            if (!merged.empty() && merged.back().offset + merged.back().size == b.offset) merged.back().size += b.size;
            else merged.push_back(b);
        }
        free_blocks = std::move(merged);
    };
    const auto& nodes = g_.nodes();
    for (size_t n = 0; n < nodes.size(); n++) {
        const ValueId taken = in_place_source(nodes[n], static_cast<int>(n));
        for (ValueId out : nodes[n].outputs) {
            const Value& v = g_.value(out);
            plan_.offset[static_cast<size_t>(out)] =
                out == nodes[n].outputs[0] && taken >= 0 ? plan_.offset[static_cast<size_t>(taken)] : allocate(tensor_bytes(v.dtype, resolve(v.dims)));
        }
        // Inputs dying here are released after the outputs were placed, so an op
        // never writes into a buffer it is still reading (but for the one it takes over).
        for (ValueId in : nodes[n].inputs) {
            const Value& v = g_.value(in);
            if (in != taken && v.kind == ValueKind::intermediate && last_use_[static_cast<size_t>(in)] == static_cast<int>(n))
                release(plan_.offset[static_cast<size_t>(in)], tensor_bytes(v.dtype, resolve(v.dims)));
        }
        for (ValueId out : nodes[n].outputs)  // produced but never read
            if (last_use_[static_cast<size_t>(out)] < 0)
                release(plan_.offset[static_cast<size_t>(out)], tensor_bytes(g_.value(out).dtype, resolve(g_.value(out).dims)));
    }
    plan_.total = top;
}

void Executor::run_node(ExecContext& ctx, const Node& node, std::span<const Tensor> in, std::span<Tensor> out) const {
    if (!ctx.profile) {
        node.op->run(ctx, in, out);
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    node.op->run(ctx, in, out);
    auto& entry = (*ctx.profile)[std::string(node.op->name())];
    entry.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    entry.calls++;
}

std::vector<Tensor> Executor::run(ExecContext& ctx, const std::vector<Tensor>& inputs) {
    const auto& in_ids = g_.inputs();
    if (inputs.size() != in_ids.size()) fail("graph expects ", in_ids.size(), " inputs, got ", inputs.size());
    if (g_.dynamic()) return run_dynamic(ctx, inputs);
    // Bind the symbolic dims from the inputs' actual dims.
    int64_t n_tokens = -1, n_outputs = -1;
    for (size_t i = 0; i < inputs.size(); i++) {
        const Value& v = g_.value(in_ids[i]);
        if (inputs[i].dtype != v.dtype || inputs[i].dims.size() != v.dims.size())
            fail("input '", v.name, "': expected ", dtype_name(v.dtype), " ", dims_to_string(v.dims));
        for (size_t d = 0; d < v.dims.size(); d++) {
            int64_t want = v.dims[d], got = inputs[i].dims[d];
            int64_t* bound = want == kTokens ? &n_tokens : want == kOutputs ? &n_outputs : nullptr;
            if (bound) {
                if (*bound >= 0 && *bound != got) fail("input '", v.name, "': inconsistent batch size ", got, " vs ", *bound);
                *bound = got;
            } else if (want != got) {
                fail("input '", v.name, "': dim ", d, " is ", got, ", expected ", want);
            }
        }
    }
    if (!plan_.valid || n_tokens != plan_.n_tokens || n_outputs != plan_.n_outputs) make_plan(n_tokens, n_outputs);
    if (arena_.size() < plan_.total + kAlign) arena_.resize(plan_.total + kAlign);
    uint8_t* base = arena_.data() + (kAlign - reinterpret_cast<uintptr_t>(arena_.data()) % kAlign) % kAlign;

    std::vector<Tensor> bound(g_.values().size());
    for (size_t i = 0; i < inputs.size(); i++) bound[static_cast<size_t>(in_ids[i])] = inputs[i];
    for (size_t id = 0; id < g_.values().size(); id++) {
        const Value& v = g_.values()[id];
        if (v.kind == ValueKind::constant) bound[id] = {v.dtype, v.dims, const_cast<void*>(v.data)};
        else if (v.kind == ValueKind::intermediate) bound[id] = {v.dtype, resolve(v.dims), base + plan_.offset[id]};
    }
    std::vector<Tensor> in, out;
    for (const Node& node : g_.nodes()) {
        in.clear();
        out.clear();
        for (ValueId id : node.inputs) in.push_back(bound[static_cast<size_t>(id)]);
        for (ValueId id : node.outputs) out.push_back(bound[static_cast<size_t>(id)]);
        run_node(ctx, node, in, out);
    }
    std::vector<Tensor> result;
    for (ValueId id : g_.outputs()) result.push_back(bound[static_cast<size_t>(id)]);
    return result;
}

static uint8_t* aligned(std::vector<uint8_t>& b) {
    return b.data() + (kAlign - reinterpret_cast<uintptr_t>(b.data()) % kAlign) % kAlign;
}

std::vector<Tensor> Executor::run_dynamic(ExecContext& ctx, const std::vector<Tensor>& inputs) {
    const auto& in_ids = g_.inputs();
    for (size_t i = 0; i < inputs.size(); i++) {
        const Value& v = g_.value(in_ids[i]);
        if (inputs[i].dtype != v.dtype) fail("input '", v.name, "' must be ", dtype_name(v.dtype), ", got ", dtype_name(inputs[i].dtype));
        if (v.dynamic) continue;
        if (inputs[i].dims.size() != v.dims.size())
            fail("input '", v.name, "': expected ", v.dims.size(), " dims ", dims_to_string(v.dims), ", got ", dims_to_string(inputs[i].dims));
        for (size_t d = 0; d < v.dims.size(); d++)
            if (v.dims[d] != kAnyDim && v.dims[d] != inputs[i].dims[d])
                fail("input '", v.name, "': dim ", d, " is ", inputs[i].dims[d], ", expected ", v.dims[d]);
    }
    for (auto& b : owned_)
        if (!b.empty()) spare_.emplace(b.size(), std::move(b));
    owned_.assign(g_.values().size(), {});
    // The smallest spare buffer that fits, else a new one with some to spare: a decoder's
    // KV cache (graph outputs) grows by a row a step, and a taken output recycled a step
    // later (take_output) then fits the next steps' too. Outputs get half again, so the
    // cache is reallocated (and its fresh pages faulted in) a few times over a long
    // generation rather than every few steps; intermediates an eighth.
    const int graph_end = static_cast<int>(g_.nodes().size());
    auto take = [&](size_t bytes, bool output) {
        const auto it = spare_.lower_bound(bytes + kAlign);
        if (it == spare_.end()) return std::vector<uint8_t>(bytes + kAlign + (output ? bytes / 2 : bytes / 8));
        std::vector<uint8_t> b = std::move(it->second);
        spare_.erase(it);
        return b;
    };
    auto give_back = [&](ValueId id) {
        auto& b = owned_[static_cast<size_t>(id)];
        if (!b.empty()) spare_.emplace(b.size(), std::move(b));
        b.clear();
    };

    std::vector<Tensor>& bound = bound_;
    if (bound.empty()) {
        bound.resize(g_.values().size());
        for (size_t id = 0; id < g_.values().size(); id++) {
            const Value& v = g_.values()[id];
            if (v.kind == ValueKind::constant) bound[id] = {v.dtype, v.dims, const_cast<void*>(v.data)};
        }
    }
    static uint8_t empty_data[kAlign];  // empty inputs get a pointer: null data means an absent value
    for (size_t i = 0; i < inputs.size(); i++) {
        bound[static_cast<size_t>(in_ids[i])] = inputs[i];
        if (!inputs[i].data && inputs[i].elements() == 0) bound[static_cast<size_t>(in_ids[i])].data = empty_data;
    }
    const auto& nodes = g_.nodes();
    for (size_t n = 0; n < nodes.size(); n++) {
        const Node& node = nodes[n];
        const size_t n_in = node.inputs.size(), n_out = node.outputs.size();
        if (seen_.size() < n_in) seen_.resize(n_in), in_.resize(n_in);
        if (out_.size() < n_out) out_.resize(n_out);
        seen_ptr_.clear();
        for (size_t i = 0; i < n_in; i++) {
            const ValueId id = node.inputs[i];
            const Tensor& t = bound[static_cast<size_t>(id)];
            in_[i] = t;
            Value& v = seen_[i];
            v.kind = g_.value(id).kind;
            v.dtype = t.dtype;
            v.dims = t.dims;
            v.data = t.data;
            seen_ptr_.push_back(&v);
        }
        try {
            std::vector<OutputSpec> specs = node.op->infer(seen_ptr_);
            if (specs.size() != n_out) fail("gives ", specs.size(), " outputs, the graph expects ", n_out);
            for (size_t o = 0; o < specs.size(); o++) {
                ValueId id = node.outputs[o];
                const size_t bytes = tensor_bytes(specs[o].dtype, specs[o].dims);
                if (ctx.max_tensor_bytes && bytes > ctx.max_tensor_bytes)
                    fail("output ", o, " ", dims_to_string(specs[o].dims), " needs ", bytes, " bytes, over the limit of ", ctx.max_tensor_bytes);
                std::vector<uint8_t> b;
                try {
                    b = take(bytes, last_use_[static_cast<size_t>(id)] == graph_end);
                } catch (const std::bad_alloc&) {
                    fail("out of memory for output ", o, " ", dims_to_string(specs[o].dims), " (", bytes, " bytes)");
                }
                bound[static_cast<size_t>(id)] = {specs[o].dtype, std::move(specs[o].dims), aligned(b)};
                owned_[static_cast<size_t>(id)] = std::move(b);
                out_[o] = bound[static_cast<size_t>(id)];
            }
            run_node(ctx, node, std::span<const Tensor>(in_.data(), n_in), std::span<Tensor>(out_.data(), n_out));
        } catch (const Error& e) {
            const std::string& node_name = node.outputs.empty() ? std::string() : g_.value(node.outputs[0]).name;
            fail("node '", node_name, "' (", node.op->name(), "): ", e.what());
        }
        for (ValueId id : node.inputs)
            if (g_.value(id).kind == ValueKind::intermediate && last_use_[static_cast<size_t>(id)] == static_cast<int>(n)) give_back(id);
        for (ValueId id : node.outputs)
            if (last_use_[static_cast<size_t>(id)] < 0) give_back(id);
    }
    std::vector<Tensor> result;
    for (ValueId id : g_.outputs()) result.push_back(bound[static_cast<size_t>(id)]);
    return result;
}

std::vector<uint8_t> Executor::take_output(size_t i) {
    const size_t id = static_cast<size_t>(g_.outputs().at(i));
    if (id >= owned_.size()) return {};
    return std::move(owned_[id]);
}

void Executor::recycle(std::vector<uint8_t> b) {
    if (!b.empty()) spare_.emplace(b.size(), std::move(b));
}

}  // namespace lmx::graph
