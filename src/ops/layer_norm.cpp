#include <cmath>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// LayerNorm over each row: (x - mean) / sqrt(var + eps) * weight + bias, the biased
// variance as torch computes it; sums in double so long rows lose nothing.
class LayerNorm final : public NamedOp {
public:
    explicit LayerNorm(float eps) : NamedOp("layer_norm"), eps_(eps) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        for (const Value* v : in) require(v->dtype == DType::F32, "x, weight and bias must be f32");
        require(!in[0]->dims.empty() && in[1]->dims == Dims{in[0]->dims.back()} && in[2]->dims == in[1]->dims,
                "weight ", graph::dims_text(in[1]->dims), " and bias ", graph::dims_text(in[2]->dims),
                " do not match x ", graph::dims_text(in[0]->dims));
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].cols();
        const float *w = in[1].as<float>(), *bias = in[2].as<float>();
        parallel_for(ctx, in[0].rows(), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; r++) {
                const float* x = in[0].as<float>() + r * d;
                float* y = out[0].as<float>() + r * d;
                double sum = 0, sq = 0;
                for (int64_t i = 0; i < d; i++) sum += x[i];
                const double mean = sum / static_cast<double>(d);
                for (int64_t i = 0; i < d; i++) sq += (x[i] - mean) * (x[i] - mean);
                const auto inv = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(d) + eps_));
                const auto m = static_cast<float>(mean);
                for (int64_t i = 0; i < d; i++) y[i] = (x[i] - m) * inv * w[i] + bias[i];
            }
        }, 16);
    }

private:
    float eps_;
};

OpPtr layer_norm(float eps) { return std::make_shared<LayerNorm>(eps); }

}  // namespace lmx::ops
