#include <cmath>
#include <optional>
#include <vector>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// One group of d values: y = x / sqrt(mean(x²) + eps) * w. y may be x.
static void rms_norm_row(const float* x, const float* w, int64_t d, float eps, float* y) {
    double sum = 0;  // double accumulation, as ggml does
    for (int64_t i = 0; i < d; i++) sum += static_cast<double>(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(d)) + eps);
    for (int64_t i = 0; i < d; i++) y[i] = (x[i] * scale) * w[i];
}

static void require_norm_inputs(std::span<const Value* const> in, int64_t n_groups) {
    require_inputs(in, 2, 2);
    require(in[0]->dtype == DType::F32 && in[1]->dtype == DType::F32, "x and weight must be f32");
    require(n_groups > 0 && in[1]->dims.size() == 1 && !in[0]->dims.empty() && in[0]->dims.back() == n_groups * in[1]->dims[0],
            "weight ", graph::dims_text(in[1]->dims), " does not match x ", graph::dims_text(in[0]->dims),
            n_groups > 1 ? " split in " + std::to_string(n_groups) + " heads" : "");
}

// RMSNorm over groups of D = weight size values: one group per row (rms_norm) or one
// per head (head_rms_norm, where a row holds n_groups heads).
class RmsNorm final : public NamedOp {
public:
    RmsNorm(const char* name, float eps, int n_groups) : NamedOp(name), eps_(eps), n_groups_(n_groups) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_norm_inputs(in, n_groups_);
        return {{DType::F32, in[0]->dims}};
    }
    int in_place_input() const override { return 0; }  // a row is summed before it is written
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].cols() / n_groups_;
        parallel_for(ctx, in[0].rows() * n_groups_, [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; r++) rms_norm_row(in[0].as<float>() + r * d, in[1].as<float>(), d, eps_, out[0].as<float>() + r * d);
        });
    }
    float eps() const { return eps_; }
    bool per_row() const { return n_groups_ == 1; }

private:
    float eps_;
    int64_t n_groups_;
};

// rms_norm whose rows leave already quantized to the activation type of the matmuls
// that read them (the fused pass, ops/passes.cpp): the same quantize function the
// matmul would call on the f32 row, so the bits are the unfused graph's.
class RmsNormQuantize final : public NamedOp {
public:
    RmsNormQuantize(float eps, DType act) : NamedOp("rms_norm_quantize"), eps_(eps), act_(act) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_norm_inputs(in, 1);
        require(in[0]->dims.back() % dtype_info(act_).block_elems == 0, "rows of ", in[0]->dims.back(), " are not whole ",
                dtype_name(act_), " blocks");
        return {{act_, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].cols();
        const size_t row_bytes = dtype_row_bytes(act_, d);
        const auto quantize = ctx.kernels.quantize[static_cast<int>(act_)];
        require(quantize != nullptr, "no quantize kernel for ", dtype_name(act_));
        parallel_for(ctx, in[0].rows(), [&](int64_t b, int64_t e) {
            std::vector<float> y(static_cast<size_t>(d));
            for (int64_t r = b; r < e; r++) {
                rms_norm_row(in[0].as<float>() + r * d, in[1].as<float>(), d, eps_, y.data());
                quantize(y.data(), out[0].as<uint8_t>() + static_cast<size_t>(r) * row_bytes, d);
            }
        });
    }

private:
    float eps_;
    DType act_;
};

OpPtr rms_norm(float eps) { return std::make_shared<RmsNorm>("rms_norm", eps, 1); }
OpPtr head_rms_norm(float eps, int n_heads) { return std::make_shared<RmsNorm>("head_rms_norm", eps, n_heads); }
OpPtr rms_norm_quantize(float eps, DType act) { return std::make_shared<RmsNormQuantize>(eps, act); }

std::optional<float> row_rms_norm_eps(const graph::Op& op) {
    const auto* norm = dynamic_cast<const RmsNorm*>(&op);
    if (!norm || !norm->per_row()) return std::nullopt;
    return norm->eps();
}

}  // namespace lmx::ops
