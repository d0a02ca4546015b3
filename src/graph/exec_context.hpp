#pragma once
// What an op sees while it runs: the thread pool, the kernel table chosen for
// this CPU, reusable scratch memory, and the state of stateful ops.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lmx {
class ThreadPool;
namespace kernels { struct Table; }
namespace ops { class KvCache; }  // owned by the runtime, read and written by attention ops
}

namespace lmx::graph {

struct ExecContext {
    ExecContext(ThreadPool& p, const kernels::Table& k, ops::KvCache* kv = nullptr) : pool(p), kernels(k), kv_cache(kv) {}

    ThreadPool& pool;
    const kernels::Table& kernels;
    ops::KvCache* kv_cache = nullptr;
    // Deterministic mode (kernels is then a kernels::deterministic_table): ops use det_math's
    // exp/sin/cos instead of libm's, so results are the same bits on every platform.
    bool deterministic = false;

    // When set, the executor adds each node's wall time to its op's entry.
    struct OpTime {
        double ms = 0;
        int64_t calls = 0;
    };
    std::map<std::string, OpTime>* profile = nullptr;

    // Dynamic graphs: a node whose output would exceed this many bytes fails with an
    // error instead of allocating it (0: no limit). Shapes there come from data, so a
    // hostile model could otherwise ask for terabytes.
    size_t max_tensor_bytes = 0;

    // Scratch bytes valid until the next call (ops run one at a time, so one buffer serves all).
    void* scratch(size_t bytes);

private:
    std::vector<uint8_t> scratch_;
};

}  // namespace lmx::graph
