#include <cmath>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// The exact GELU, x * Φ(x) with the erf, as BERT and torch's nn.GELU() compute it
// (not the tanh approximation gelu_ggml follows).
class GeluErf final : public NamedOp {
public:
    GeluErf() : NamedOp("gelu") {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(in[0]->dtype == DType::F32, "input must be f32");
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float* x = in[0].as<float>();
        float* y = out[0].as<float>();
        constexpr float kInvSqrt2 = 0.70710678118654752440f;
        parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
        }, 16384);
    }
};

OpPtr gelu() { return std::make_shared<GeluErf>(); }

}  // namespace lmx::ops
