// libFuzzer entry: any bytes that parse as an ONNX model must import into the IR and
// run (inputs of every symbolic dim 2, zero-filled) or throw lmx::Error: the importers
// and ops validate attributes, dims and data-dependent shapes (Reshape, Slice, Gather
// indices...) before touching memory. Outputs are capped at 16 MB each, as a caller
// with a memory budget would set ExecContext::max_tensor_bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "formats/onnx.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace lmx;
    static ThreadPool pool(1);
    try {
        auto g = models::import_onnx(onnx::Model::parse(data, size, "fuzz.onnx"));
        std::vector<std::vector<uint8_t>> buffers;
        std::vector<graph::Tensor> inputs;
        for (graph::ValueId id : g->graph.inputs()) {
            const graph::Value& v = g->graph.value(id);
            graph::Dims dims = v.dynamic ? graph::Dims{2} : v.dims;
            int64_t n = 1;
            for (int64_t& d : dims) n *= (d = d < 0 ? 2 : d);
            if (n > (1 << 20)) return 0;
            buffers.emplace_back(dtype_row_bytes(v.dtype, n) + 1, 0);
            inputs.push_back({v.dtype, dims, buffers.back().data()});
        }
        graph::ExecContext ctx(pool, kernels::best_table());
        ctx.max_tensor_bytes = size_t{16} << 20;
        graph::Executor(g->graph).run(ctx, inputs);
    } catch (const Error&) {
    }
    return 0;
}
