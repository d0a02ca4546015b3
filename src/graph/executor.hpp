#pragma once
// Runs a Graph: binds inputs, resolves symbolic dims, plans intermediate memory
// (buffers reused once their value is dead) and runs nodes in order. A dynamic graph
// (ONNX: shapes that depend on computed values) is planned as it runs instead: each
// node's output dims are inferred from its inputs' actual dims and data just before it
// runs, and buffers are recycled through a free list across nodes and runs.
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "graph/exec_context.hpp"
#include "graph/ir.hpp"

namespace lmx::graph {

class Executor {
public:
    explicit Executor(const Graph& g);

    // inputs: one Tensor per graph input, in graph.inputs() order, dims fully resolved.
    // Returns the graph outputs (valid until the next run).
    std::vector<Tensor> run(ExecContext& ctx, const std::vector<Tensor>& inputs);

    size_t arena_bytes() const { return arena_.size(); }  // peak intermediate memory of the last plan

    // Dynamic graphs: the memory of output i of the last run, handed to the caller (empty
    // when the executor does not own it, e.g. an input passed through): the Tensor run()
    // returned stays valid while the caller keeps it, and later runs no longer reuse it.
    // A decoder keeps `present` this way as the next step's `past`, without a copy.
    std::vector<uint8_t> take_output(size_t i);
    // Memory the caller no longer needs (a taken output of an earlier run), for reuse.
    void recycle(std::vector<uint8_t> b);

private:
    struct Plan {
        bool valid = false;
        int64_t n_tokens = -1, n_outputs = -1;  // -1: the graph has no such dim
        std::vector<size_t> offset;  // per value (intermediates only)
        size_t total = 0;
    };
    void make_plan(int64_t n_tokens, int64_t n_outputs);
    ValueId in_place_source(const Node& node, int n) const;
    Dims resolve(const Dims& d) const;
    std::vector<Tensor> run_dynamic(ExecContext& ctx, const std::vector<Tensor>& inputs);
    void run_node(ExecContext& ctx, const Node& node, std::span<const Tensor> in, std::span<Tensor> out) const;

    const Graph& g_;
    std::vector<int> last_use_;  // per value: index of the last node reading it
    Plan plan_;
    std::vector<uint8_t> arena_;
    // Dynamic runs: the buffer of each value computed in the last run (kept so its
    // outputs stay valid), the spare buffers by size, every value's tensor (constants
    // bound once; the rest rebound as the run reaches them) and a node's inputs and
    // outputs (kept, so their dims reuse their storage from node to node).
    std::vector<std::vector<uint8_t>> owned_;
    std::multimap<size_t, std::vector<uint8_t>> spare_;
    std::vector<Tensor> bound_;
    std::vector<Value> seen_;
    std::vector<const Value*> seen_ptr_;
    std::vector<Tensor> in_, out_;
};

}  // namespace lmx::graph
