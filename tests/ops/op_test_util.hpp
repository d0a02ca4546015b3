#pragma once
// Shared by the op tests: random inputs, tensor views, and a one-node graph runner.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "ops/kv_cache.hpp"
#include "ops/ops.hpp"

namespace lmx::test {

inline std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

inline graph::Tensor f32(std::vector<float>& v, graph::Dims d) { return {DType::F32, std::move(d), v.data()}; }
inline graph::Tensor i32(std::vector<int32_t>& v) { return {DType::I32, {static_cast<int64_t>(v.size())}, v.data()}; }

// Runs a one-node graph whose inputs are all graph inputs with the given dims.
struct OneOp {
    graph::Graph g;
    std::vector<graph::ValueId> ins;
    OneOp(ops::OpPtr op, const std::vector<std::pair<DType, graph::Dims>>& inputs) {
        for (size_t i = 0; i < inputs.size(); i++) ins.push_back(g.add_input("in" + std::to_string(i), inputs[i].first, inputs[i].second));
        g.mark_output(g.add(std::move(op), ins, "out"));
    }
    std::vector<float> run(const std::vector<graph::Tensor>& inputs, int threads = 2, ops::KvCache* kv = nullptr) {
        ThreadPool pool(threads);
        graph::ExecContext ctx(pool, kernels::best_table(), kv);
        graph::Executor ex(g);
        graph::Tensor out = ex.run(ctx, inputs).at(0);
        return {out.as<float>(), out.as<float>() + out.elements()};
    }
};

}  // namespace lmx::test
