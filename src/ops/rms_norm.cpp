#include <cmath>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

class RmsNorm final : public NamedOp {
public:
    explicit RmsNorm(float eps) : NamedOp("rms_norm"), eps_(eps) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[1]->dtype == DType::F32, "x and weight must be f32");
        require(in[1]->dims.size() == 1 && !in[0]->dims.empty() && in[0]->dims.back() == in[1]->dims[0],
                "weight ", graph::dims_to_string(in[1]->dims), " does not match x ", graph::dims_to_string(in[0]->dims));
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].cols();
        const float* w = in[1].as<float>();
        parallel_for(ctx, in[0].rows(), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; r++) {
                const float* x = in[0].as<float>() + r * d;
                float* y = out[0].as<float>() + r * d;
                double sum = 0;  // double accumulation, as ggml does
                for (int64_t i = 0; i < d; i++) sum += static_cast<double>(x[i]) * x[i];
                const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(d)) + eps_);
                for (int64_t i = 0; i < d; i++) y[i] = (x[i] * scale) * w[i];
            }
        });
    }

private:
    float eps_;
};

OpPtr rms_norm(float eps) { return std::make_shared<RmsNorm>(eps); }

}  // namespace lmx::ops
