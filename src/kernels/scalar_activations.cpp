#include <algorithm>
#include <cmath>

#include "kernels/scalar.hpp"

namespace lmx::kernels {

void swiglu(int64_t n, const float* gate, const float* up, float* y) {
    for (int64_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void softmax_row(int64_t n, float* x, float scale) {
    float mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; i++) mx = std::max(mx, x[i]);
    for (int64_t i = 0; i < n; i++) sum += x[i] = std::exp(scale * (x[i] - mx));
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

}  // namespace lmx::kernels
