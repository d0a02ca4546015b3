#include "graph/executor.hpp"

#include <algorithm>
#include <chrono>

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
        for (ValueId out : nodes[n].outputs) {
            const Value& v = g_.value(out);
            plan_.offset[static_cast<size_t>(out)] = allocate(tensor_bytes(v.dtype, resolve(v.dims)));
        }
        // Inputs dying here are released after the outputs were placed, so an op
        // never writes into a buffer it is still reading.
        for (ValueId in : nodes[n].inputs) {
            const Value& v = g_.value(in);
            if (v.kind == ValueKind::intermediate && last_use_[static_cast<size_t>(in)] == static_cast<int>(n))
                release(plan_.offset[static_cast<size_t>(in)], tensor_bytes(v.dtype, resolve(v.dims)));
        }
        for (ValueId out : nodes[n].outputs)  // produced but never read
            if (last_use_[static_cast<size_t>(out)] < 0)
                release(plan_.offset[static_cast<size_t>(out)], tensor_bytes(g_.value(out).dtype, resolve(g_.value(out).dims)));
    }
    plan_.total = top;
}

std::vector<Tensor> Executor::run(ExecContext& ctx, const std::vector<Tensor>& inputs) {
    const auto& in_ids = g_.inputs();
    if (inputs.size() != in_ids.size()) fail("graph expects ", in_ids.size(), " inputs, got ", inputs.size());
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
        if (!ctx.profile) {
            node.op->run(ctx, in, out);
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        node.op->run(ctx, in, out);
        auto& entry = (*ctx.profile)[std::string(node.op->name())];
        entry.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        entry.calls++;
    }
    std::vector<Tensor> result;
    for (ValueId id : g_.outputs()) result.push_back(bound[static_cast<size_t>(id)]);
    return result;
}

}  // namespace lmx::graph
