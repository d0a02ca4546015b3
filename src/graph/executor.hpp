#pragma once
// Runs a Graph: binds inputs, resolves symbolic dims, plans intermediate memory
// (buffers reused once their value is dead) and runs nodes in order.
#include <cstddef>
#include <map>
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

private:
    struct Plan {
        bool valid = false;
        int64_t n_tokens = -1, n_outputs = -1;  // -1: the graph has no such dim
        std::vector<size_t> offset;  // per value (intermediates only)
        size_t total = 0;
    };
    void make_plan(int64_t n_tokens, int64_t n_outputs);
    Dims resolve(const Dims& d) const;

    const Graph& g_;
    std::vector<int> last_use_;  // per value: index of the last node reading it
    Plan plan_;
    std::vector<uint8_t> arena_;
};

}  // namespace lmx::graph
