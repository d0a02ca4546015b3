#include <cmath>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// RMSNorm over groups of D = weight size values: one group per row (rms_norm) or one
// per head (head_rms_norm, where a row holds n_groups heads).
class RmsNorm final : public NamedOp {
public:
    RmsNorm(const char* name, float eps, int n_groups) : NamedOp(name), eps_(eps), n_groups_(n_groups) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[1]->dtype == DType::F32, "x and weight must be f32");
        require(n_groups_ > 0 && in[1]->dims.size() == 1 && !in[0]->dims.empty() && in[0]->dims.back() == n_groups_ * in[1]->dims[0],
                "weight ", graph::dims_text(in[1]->dims), " does not match x ", graph::dims_text(in[0]->dims),
                n_groups_ > 1 ? " split in " + std::to_string(n_groups_) + " heads" : "");
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].cols() / n_groups_;
        const float* w = in[1].as<float>();
        parallel_for(ctx, in[0].rows() * n_groups_, [&](int64_t b, int64_t e) {
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
    int64_t n_groups_;
};

OpPtr rms_norm(float eps) { return std::make_shared<RmsNorm>("rms_norm", eps, 1); }
OpPtr head_rms_norm(float eps, int n_heads) { return std::make_shared<RmsNorm>("head_rms_norm", eps, n_heads); }

}  // namespace lmx::ops
