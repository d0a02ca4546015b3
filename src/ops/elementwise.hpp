#pragma once
// Elementwise f32 ops as one template each for one and two inputs: the op checks dims
// and splits the elements across threads; f computes a contiguous range,
// f(ctx, x, y, n) or f(ctx, a, b, y, n), so it can call a row kernel. `in_place`: f
// reads x[i] (a[i]) before it writes y[i], so y may take over the input's buffer
// (graph::Op::in_place_input).
#include <memory>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

template <class F>
class Unary final : public NamedOp {
public:
    Unary(const char* name, F f, bool in_place) : NamedOp(name), f_(f), in_place_(in_place) {}
    int in_place_input() const override { return in_place_ ? 0 : -1; }
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(in[0]->dtype == DType::F32, "input must be f32");
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float* x = in[0].as<float>();
        float* y = out[0].as<float>();
        parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) { f_(ctx, x + lo, y + lo, hi - lo); }, 16384);
    }

private:
    F f_;
    bool in_place_;
};

template <class F>
class Binary final : public NamedOp {
public:
    Binary(const char* name, F f, bool in_place) : NamedOp(name), f_(f), in_place_(in_place) {}
    int in_place_input() const override { return in_place_ ? 0 : -1; }
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[1]->dtype == DType::F32, "inputs must be f32");
        require(in[0]->dims == in[1]->dims, "dims differ: ", graph::dims_text(in[0]->dims), " vs ",
                graph::dims_text(in[1]->dims));
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float *a = in[0].as<float>(), *b = in[1].as<float>();
        float* y = out[0].as<float>();
        parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) { f_(ctx, a + lo, b + lo, y + lo, hi - lo); }, 16384);
    }

private:
    F f_;
    bool in_place_;
};

template <class F>
OpPtr make_unary(const char* name, F f, bool in_place = false) { return std::make_shared<Unary<F>>(name, f, in_place); }
template <class F>
OpPtr make_binary(const char* name, F f, bool in_place = false) { return std::make_shared<Binary<F>>(name, f, in_place); }

}  // namespace lmx::ops
