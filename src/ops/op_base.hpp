#pragma once
// Shared by the op implementations: a base class carrying the op's name and a
// shape-check helper whose failures name the op.
#include <atomic>
#include <string>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "graph/exec_context.hpp"
#include "graph/ir.hpp"
#include "kernels/kernels.hpp"

namespace lmx::ops {

using graph::Dims;
using graph::OutputSpec;
using graph::Tensor;
using graph::Value;

class NamedOp : public graph::Op {
public:
    explicit NamedOp(const char* name) : name_(name) {}
    std::string_view name() const override { return name_; }

private:
    const char* name_;
};

template <class... Parts>
void require(bool ok, const Parts&... parts) {
    if (!ok) fail(parts...);
}

inline void require_inputs(std::span<const Value* const> in, size_t lo, size_t hi) {
    require(in.size() >= lo && in.size() <= hi, "expected ", lo, lo == hi ? "" : "..", lo == hi ? "" : std::to_string(hi),
            " inputs, got ", in.size());
}

// Runs body(begin, end) over [0, n) split across the pool's threads; inline when
// n < 2 * grain, since waking the pool costs more than small work.
template <class Body>
void parallel_for(graph::ExecContext& ctx, int64_t n, const Body& body, int64_t grain = 1) {
    if (n < 2 * grain || ctx.pool.size() == 1) { body(int64_t{0}, n); return; }
    ctx.pool.run([&](int ith, int nth) {
        Range r = split_range(n, ith, nth);
        if (r.begin < r.end) body(r.begin, r.end);
    });
}

// parallel_for for items of unequal cost (attention over sequences of different lengths):
// threads take one item at a time from a shared counter, so a thread that drew longer
// items or lost its core for a while (to a server's clients, say) takes fewer. Not for
// the matmuls: their contiguous ranges let each thread's prefetch run ahead without a
// break (taken in chunks, SmolLM2's batched decoding measured 10% slower).
template <class Body>
void parallel_for_dynamic(graph::ExecContext& ctx, int64_t n, const Body& body) {
    if (n < 2 || ctx.pool.size() == 1) { body(int64_t{0}, n); return; }
    std::atomic<int64_t> next{0};
    ctx.pool.run([&](int, int) {
        for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) body(i, i + 1);
    });
}

}  // namespace lmx::ops
