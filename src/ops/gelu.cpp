#include <cmath>

#include "ops/elementwise.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// The exact GELU, x * Φ(x) with the erf, as BERT and torch's nn.GELU() compute it
// (not the tanh approximation gelu_ggml follows).
OpPtr gelu() {
    return make_unary("gelu", [](const graph::ExecContext&, const float* x, float* y, int64_t n) {
        constexpr float kInvSqrt2 = 0.70710678118654752440f;
        for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
    });
}

}  // namespace lmx::ops
