#include <cmath>

#include "base/det_math.hpp"
#include "base/fp16.hpp"
#include "ops/elementwise.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

OpPtr scale(float s) {
    return make_unary("scale", [s](const graph::ExecContext&, const float* x, float* y, int64_t n) {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * s;
    });
}

OpPtr add() {
    return make_binary("add", [](const graph::ExecContext&, const float* a, const float* b, float* y, int64_t n) {
        for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
    });
}

// silu(gate) * up = gate / (1 + e^-gate) * up; deterministic mode takes e^-gate from the
// exact row kernel (written into y first, so y may alias nothing else).
OpPtr swiglu() {
    return make_binary("swiglu", [](const graph::ExecContext& ctx, const float* gate, const float* up, float* y, int64_t n) {
        if (!ctx.deterministic) {
            for (int64_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
            return;
        }
        for (int64_t i = 0; i < n; i++) y[i] = -gate[i];
        ctx.kernels.exp_det(n, y, y);
        for (int64_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + y[i]) * up[i];
    });
}

float gelu_ggml(float x, bool deterministic) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    const float h = fp16_to_fp32(fp32_to_fp16(x));
    constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f, kCoefA = 0.044715f;
    const float u = kSqrt2OverPi * h * (1.0f + kCoefA * h * h);
    return fp16_to_fp32(fp32_to_fp16(0.5f * h * (1.0f + (deterministic ? det_tanh(u) : std::tanh(u)))));
}

OpPtr geglu() {
    return make_binary("geglu", [](const graph::ExecContext& ctx, const float* gate, const float* up, float* y, int64_t n) {
        for (int64_t i = 0; i < n; i++) y[i] = gelu_ggml(gate[i], ctx.deterministic) * up[i];
    });
}

}  // namespace lmx::ops
