// Runs ONNX's backend node tests (model.onnx + test_data_set_*/input_*.pb, output_*.pb,
// from the onnx wheel or Debian's libonnx-testdata) through lmx's importer and
// executor, comparing with the expected outputs as onnx's own backend test runner does
// (rtol 1e-3, atol 1e-7; integers and bools exact). Each test runs in a child process,
// so a crash is reported as one failed test.
//
//   onnx_node_tests NODE_DIR [TEST...]            print PASS/FAIL/UNSUPPORTED per test
//   onnx_node_tests --write LIST NODE_DIR         also write the passing tests' names to LIST
//   onnx_node_tests --check LIST NODE_DIR         exit 1 unless every test in LIST passes
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/mapped_file.hpp"
#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/node_context.hpp"
#include "models/onnx/onnx_import.hpp"
#include "ops/nd/nd.hpp"

namespace fs = std::filesystem;
using namespace lmx;

namespace {

enum class Outcome { pass, fail, unsupported };

struct Result {
    Outcome outcome;
    std::string detail;
};

onnx::Tensor read_pb(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    onnx::Tensor t = onnx::parse_tensor(bytes.data(), bytes.size());
    t.set_owned(std::vector<uint8_t>(t.bytes().begin(), t.bytes().end()));  // outlive `bytes`
    return t;
}

// "" when equal within tolerance, else what differs.
std::string compare(const onnx::Tensor& want, const graph::Tensor& got) {
    DType wt = models::onnx_import::to_dtype(want.dtype);
    if (wt == DType::U16 && got.dtype == DType::BF16) wt = DType::BF16;  // onnx < 1.13 wrote bf16 data as uint16
    if (wt != got.dtype) return "dtype " + std::string(dtype_name(got.dtype)) + ", expected " + std::string(dtype_name(wt));
    if (want.dims != got.dims) return "dims " + graph::dims_to_string(got.dims) + ", expected " + graph::dims_to_string(want.dims);
    const int64_t n = want.elements();
    const void* expected = want.bytes().data();
    return ops::nd::visit_dtype(wt, "output", [&](auto t) -> std::string {
        using T = decltype(t);
        const T* w = static_cast<const T*>(expected);
        const T* g = got.as<T>();
        for (int64_t i = 0; i < n; i++) {
            const double a = static_cast<double>(static_cast<ops::nd::Compute<T>>(g[i]));
            const double b = static_cast<double>(static_cast<ops::nd::Compute<T>>(w[i]));
            bool ok;
            if constexpr (ops::nd::is_floating<T>)
                ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= 1e-7 + 1e-3 * std::fabs(b);
            else
                ok = a == b;
            if (!ok) return "element " + std::to_string(i) + " is " + std::to_string(a) + ", expected " + std::to_string(b);
        }
        return "";
    });
}

Result run_test(const fs::path& dir) {
    std::unique_ptr<models::OnnxGraph> g;
    try {
        g = models::import_onnx(onnx::Model::open((dir / "model.onnx").string()));
    } catch (const Error& e) {
        std::string msg = e.what();
        bool unsupported = msg.find("does not support") != std::string::npos || msg.find("is not supported") != std::string::npos;
        return {unsupported ? Outcome::unsupported : Outcome::fail, msg};
    }
    ThreadPool pool(2);
    graph::ExecContext ctx(pool, kernels::best_table());
    graph::Executor exec(g->graph);
    std::vector<fs::path> sets;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
    std::sort(sets.begin(), sets.end());
    for (const fs::path& set : sets) {
        try {
            std::vector<onnx::Tensor> ins, outs;
            for (size_t i = 0; fs::exists(set / ("input_" + std::to_string(i) + ".pb")); i++) ins.push_back(read_pb(set / ("input_" + std::to_string(i) + ".pb")));
            for (size_t i = 0; fs::exists(set / ("output_" + std::to_string(i) + ".pb")); i++) outs.push_back(read_pb(set / ("output_" + std::to_string(i) + ".pb")));
            std::vector<graph::Tensor> bound;
            for (size_t i = 0; i < ins.size(); i++) {
                DType t = models::onnx_import::to_dtype(ins[i].dtype);
                // onnx before 1.13 wrote bfloat16 test data as uint16 tensors of the same bits
                const auto& graph_in = g->graph.inputs();
                if (t == DType::U16 && i < graph_in.size() && g->graph.value(graph_in[i]).dtype == DType::BF16) t = DType::BF16;
                bound.push_back({t, ins[i].dims, const_cast<uint8_t*>(ins[i].bytes().data())});
            }
            std::vector<graph::Tensor> got = exec.run(ctx, bound);
            if (got.size() != outs.size()) return {Outcome::fail, "gives " + std::to_string(got.size()) + " outputs, expected " + std::to_string(outs.size())};
            for (size_t i = 0; i < outs.size(); i++) {
                std::string diff = compare(outs[i], got[i]);
                if (!diff.empty()) return {Outcome::fail, set.filename().string() + " output " + std::to_string(i) + ": " + diff};
            }
        } catch (const Error& e) {
            std::string msg = e.what();
            bool unsupported = msg.find("is not supported") != std::string::npos || msg.find(" cannot be ") != std::string::npos;
            return {unsupported ? Outcome::unsupported : Outcome::fail, set.filename().string() + ": " + msg};
        }
    }
    return {Outcome::pass, ""};
}

// The test in a child process: its outcome comes back through a pipe; a crash or a
// hang of over 60 s is a failure.
Result run_isolated(const fs::path& dir) {
    int fds[2];
    if (pipe(fds) != 0) return {Outcome::fail, "pipe failed"};
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(60);
        Result r = run_test(dir);
        std::string msg = std::to_string(static_cast<int>(r.outcome)) + r.detail;
        if (write(fds[1], msg.data(), msg.size()) < 0) _exit(3);
        _exit(0);
    }
    close(fds[1]);
    std::string msg;
    char buf[4096];
    ssize_t got;
    while ((got = read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(got));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || msg.empty())
        return {Outcome::fail, WIFSIGNALED(status) ? "crashed with signal " + std::to_string(WTERMSIG(status)) : "child failed"};
    return {static_cast<Outcome>(msg[0] - '0'), msg.substr(1)};
}

std::set<std::string> read_list(const std::string& path) {
    std::ifstream f(path);
    if (!f) fail("cannot read ", path);
    std::set<std::string> names;
    for (std::string line; std::getline(f, line);)
        if (!line.empty() && line[0] != '#') names.insert(line);
    return names;
}

}  // namespace

int main(int argc, char** argv) {
    std::string write_list, check_list, node_dir;
    std::set<std::string> only;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if ((a == "--write" || a == "--check") && i + 1 < argc) (a == "--write" ? write_list : check_list) = argv[++i];
        else if (node_dir.empty()) node_dir = a;
        else only.insert(a);
    }
    if (node_dir.empty()) {
        std::fprintf(stderr, "usage: onnx_node_tests [--write LIST | --check LIST] NODE_DIR [TEST...]\n");
        return 2;
    }
    if (!fs::is_directory(node_dir)) {
        std::fprintf(stderr, "error: %s is not a folder of ONNX node tests; install Debian's libonnx-testdata (scripts/setup.sh)\n", node_dir.c_str());
        return 2;
    }
    try {
        if (!check_list.empty()) only = read_list(check_list);
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    std::vector<fs::path> tests;
    for (const auto& e : fs::directory_iterator(node_dir))
        if (fs::exists(e.path() / "model.onnx") && (only.empty() || only.count(e.path().filename().string()))) tests.push_back(e.path());
    std::sort(tests.begin(), tests.end());
    int counts[3] = {0, 0, 0};
    std::vector<std::string> passed, failed;
    for (const fs::path& t : tests) {
        Result r = run_isolated(t);
        const std::string name = t.filename().string();
        counts[static_cast<int>(r.outcome)]++;
        static const char* labels[] = {"PASS", "FAIL", "UNSUPPORTED"};
        std::printf("%-11s %s%s%s\n", labels[static_cast<int>(r.outcome)], name.c_str(), r.detail.empty() ? "" : ": ", r.detail.c_str());
        (r.outcome == Outcome::pass ? passed : failed).push_back(name);
    }
    std::printf("\n%d passed, %d failed, %d unsupported of %zu\n", counts[0], counts[1], counts[2], tests.size());
    if (!write_list.empty()) {
        std::ofstream f(write_list);
        f << "# ONNX backend node tests lmx passes (regenerate: tools/gen_onnx_passlist.sh)\n";
        for (const std::string& n : passed) f << n << "\n";
    }
    if (!check_list.empty()) {
        size_t missing = only.size() - tests.size();
        if (!failed.empty() || missing) {
            std::printf("%zu listed tests failed, %zu are missing from %s\n", failed.size(), missing, node_dir.c_str());
            return 1;
        }
    }
    return 0;
}
