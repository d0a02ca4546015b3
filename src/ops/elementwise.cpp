#include <cmath>

#include "base/det_math.hpp"
#include "base/fp16.hpp"
#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// Unary f32 op y = x * s.
class Scale final : public NamedOp {
public:
    explicit Scale(float s) : NamedOp("scale"), s_(s) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(in[0]->dtype == DType::F32, "input must be f32");
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float* x = in[0].as<float>();
        float* y = out[0].as<float>();
        parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++) y[i] = x[i] * s_;
        }, 16384);
    }

private:
    float s_;
};

OpPtr scale(float s) { return std::make_shared<Scale>(s); }

// Binary f32 ops over two same-shaped inputs; f(a, b, deterministic).
template <class F>
class Binary final : public NamedOp {
public:
    Binary(const char* name, F f) : NamedOp(name), f_(f) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[1]->dtype == DType::F32, "inputs must be f32");
        require(in[0]->dims == in[1]->dims, "dims differ: ", graph::dims_to_string(in[0]->dims), " vs ",
                graph::dims_to_string(in[1]->dims));
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float *a = in[0].as<float>(), *b = in[1].as<float>();
        float* y = out[0].as<float>();
        const bool det = ctx.deterministic;
        parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++) y[i] = f_(a[i], b[i], det);
        }, 16384);
    }

private:
    F f_;
};

template <class F>
static OpPtr make_binary(const char* name, F f) { return std::make_shared<Binary<F>>(name, f); }

OpPtr add() { return make_binary("add", [](float a, float b, bool) { return a + b; }); }

OpPtr swiglu() {
    return make_binary("swiglu", [](float gate, float up, bool det) {
        return gate / (1.0f + (det ? det_exp(-gate) : std::exp(-gate))) * up;
    });
}

float gelu_ggml(float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    const float h = fp16_to_fp32(fp32_to_fp16(x));
    constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f, kCoefA = 0.044715f;
    return fp16_to_fp32(fp32_to_fp16(0.5f * h * (1.0f + std::tanh(kSqrt2OverPi * h * (1.0f + kCoefA * h * h)))));
}

OpPtr geglu() {
    return make_binary("geglu", [](float gate, float up, bool) { return gelu_ggml(gate) * up; });
}

}  // namespace lmx::ops
