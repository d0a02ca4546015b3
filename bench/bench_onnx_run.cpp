// Times lmx's ONNX importer + executor on one model, for bench_onnx_ops.py (which builds
// this file against a build folder's libraries and times onnxruntime on the same inputs).
//
//   bench_onnx_run graph MODEL.onnx THREADS REPS INPUT...    INPUT: f32:2x3:/path/raw.bin
//   bench_onnx_run decoder MODEL.onnx THREADS REPS N_LAYERS KV_HEADS HEAD_DIM N_PAST
//
// graph: runs the model REPS times on the given raw little-endian inputs (in the graph's
// input order). decoder: a decoder-with-past export (lmx export), one token after N_PAST
// tokens of zero-filled past; each rep runs the same step. Prints one line per rep: the
// wall time and the process's CPU time in ms. One warm-up run comes first, untimed.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/onnx_import.hpp"

using namespace lmx;

namespace {

struct Input {
    DType dtype;
    graph::Dims dims;
    std::vector<uint8_t> bytes;
};

// "f32:2x3:/path" -> the dims and the file's bytes.
Input parse_input(const std::string& spec) {
    const size_t c1 = spec.find(':'), c2 = spec.find(':', c1 + 1);
    const std::string t = spec.substr(0, c1), dims = spec.substr(c1 + 1, c2 - c1 - 1), path = spec.substr(c2 + 1);
    Input in{t == "f32" ? DType::F32 : DType::I64, {}, {}};
    for (size_t p = 0; p < dims.size();) {
        const size_t x = dims.find('x', p);
        in.dims.push_back(std::stoll(dims.substr(p, x - p)));
        p = x == std::string::npos ? dims.size() : x + 1;
    }
    std::ifstream f(path, std::ios::binary);
    in.bytes.assign(std::istreambuf_iterator<char>(f), {});
    return in;
}

double cpu_ms() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

template <class F>
void time_reps(int reps, F&& run) {
    run();
    for (int i = 0; i < reps; i++) {
        const double c0 = cpu_ms();
        const auto t0 = std::chrono::steady_clock::now();
        run();
        const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%.4f %.4f\n", wall, cpu_ms() - c0);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: see bench/bench_onnx_run.cpp\n");
        return 2;
    }
    const std::string mode = argv[1];
    const int threads = std::atoi(argv[3]), reps = std::atoi(argv[4]);
    const auto g = models::import_onnx(onnx::Model::open(argv[2]));
    ThreadPool pool(threads);
    graph::ExecContext ctx(pool, kernels::best_table());
    graph::Executor exec(g->graph);
    if (mode == "graph") {
        std::vector<Input> inputs;
        for (int i = 5; i < argc; i++) inputs.push_back(parse_input(argv[i]));
        std::vector<graph::Tensor> in;
        for (Input& x : inputs) in.push_back({x.dtype, x.dims, x.bytes.data()});
        time_reps(reps, [&] { exec.run(ctx, in); });
    } else {
        const int64_t layers = std::atoll(argv[5]), kv_heads = std::atoll(argv[6]), head_dim = std::atoll(argv[7]), past = std::atoll(argv[8]);
        std::vector<int64_t> ids = {1}, mask(static_cast<size_t>(past + 1), 1), pos = {past};
        std::vector<std::vector<float>> kv(static_cast<size_t>(2 * layers), std::vector<float>(static_cast<size_t>(kv_heads * past * head_dim), 0.01f));
        std::vector<graph::Tensor> in = {{DType::I64, {1, 1}, ids.data()}, {DType::I64, {1, past + 1}, mask.data()}, {DType::I64, {1, 1}, pos.data()}};
        for (auto& p : kv) in.push_back({DType::F32, {1, kv_heads, past, head_dim}, p.data()});
        time_reps(reps, [&] { exec.run(ctx, in); });
    }
    return 0;
}
