#include <cmath>
#include <vector>

#include "base/det_math.hpp"
#include "base/fp16.hpp"
#include "ops/elementwise.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

OpPtr scale(float s) {
    return make_unary("scale", [s](const graph::ExecContext&, const float* x, float* y, int64_t n) {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * s;
    }, /*in_place=*/true);
}

OpPtr add() {
    return make_binary("add", [](const graph::ExecContext&, const float* a, const float* b, float* y, int64_t n) {
        for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
    }, /*in_place=*/true);
}

// silu(gate) * up = gate / (1 + e^-gate) * up; deterministic mode takes e^-gate from the
// exact row kernel (written into y first, so y may alias nothing else: not in place).
OpPtr swiglu() {
    return make_binary("swiglu", [](const graph::ExecContext& ctx, const float* gate, const float* up, float* y, int64_t n) {
        if (!ctx.deterministic) return ctx.kernels.swiglu(n, gate, up, y);
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

// gelu_ggml below 10 in magnitude depends only on the input's fp16 bits and is an fp16:
// a table of all 65536 (as ggml's own), one per mode, built on first use, replaces tanh.
static const uint16_t* gelu_fp16_table(bool deterministic) {
    auto build = [](bool det) {
        std::vector<uint16_t> t(65536);
        for (uint32_t h = 0; h < t.size(); h++) t[h] = fp32_to_fp16(gelu_ggml(fp16_to_fp32(static_cast<uint16_t>(h)), det));
        return t;
    };
    static const std::vector<uint16_t> fast = build(false), exact = build(true);
    return deterministic ? exact.data() : fast.data();
}

OpPtr geglu() {
    return make_binary("geglu", [](const graph::ExecContext& ctx, const float* gate, const float* up, float* y, int64_t n) {
        const uint16_t* table = gelu_fp16_table(ctx.deterministic);
        for (int64_t i = 0; i < n; i++) {
            const float g = gate[i];
            const float gelu = g <= -10.0f ? 0.0f : g >= 10.0f ? g : fp16_to_fp32(table[fp32_to_fp16(g)]);
            y[i] = gelu * up[i];
        }
    }, /*in_place=*/true);
}

}  // namespace lmx::ops
