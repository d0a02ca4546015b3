#include "cli/roofline.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <vector>

#include "base/thread_pool.hpp"
#include "graph/ir.hpp"
#include "kernels/kernels.hpp"

namespace lmx::cli {

size_t weight_bytes_per_token(const graph::Graph& g) {
    const auto& values = g.values();
    std::vector<bool> gathered(values.size()), other(values.size());
    for (const graph::Node& n : g.nodes()) {
        const std::string_view op = n.op->name();
        const bool gather = op == "embed" || op == "Gather" || op == "GatherBlockQuantized";
        for (size_t i = 0; i < n.inputs.size(); i++) {
            const auto id = static_cast<size_t>(n.inputs[i]);
            if (values[id].kind != graph::ValueKind::constant) continue;
            (gather && i == 0 ? gathered : other)[id] = true;
        }
    }
    size_t bytes = 0;
    for (size_t id = 0; id < values.size(); id++) {
        const graph::Value& v = values[id];
        if (v.kind != graph::ValueKind::constant || v.dims.empty()) continue;
        int64_t elements = 1;
        for (int64_t d : v.dims) elements *= d;
        if (gathered[id] && !other[id]) elements /= v.dims[0];  // one row of the table
        bytes += dtype_row_bytes(v.dtype, elements);
    }
    return bytes;
}

double read_bandwidth_gbps(int threads) {
    std::vector<float> buf(size_t{1} << 28, 1.0f);  // 1 GiB, touched: the pages exist
    // the fastest f32 dot this CPU runs, of the buffer with itself: one stream from memory
    const kernels::VecDotFn dot = kernels::best_table().weight[static_cast<int>(DType::F32)].vec_dot;
    ThreadPool pool(threads);
    std::vector<float> sums(static_cast<size_t>(pool.size()));
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int ith, int nth) {
            const Range r = split_range(static_cast<int64_t>(buf.size()), ith, nth);
            sums[static_cast<size_t>(ith)] = dot(r.end - r.begin, buf.data() + r.begin, buf.data() + r.begin);
        });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, static_cast<double>(buf.size() * sizeof(float)) / s / 1e9);
    }
    float total = 0;
    for (float s : sums) total += s;
    return total > 0 ? best : 0;  // the sums are used, so the reads happen
}

}  // namespace lmx::cli
