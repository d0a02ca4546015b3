#include "ops/elementwise.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// The exact GELU (kernels::gelu_erf), not the tanh approximation gelu_ggml follows.
OpPtr gelu() {
    return make_unary("gelu", [](const graph::ExecContext&, const float* x, float* y, int64_t n) {
        for (int64_t i = 0; i < n; i++) y[i] = kernels::gelu_erf(x[i]);
    });
}

}  // namespace lmx::ops
