#include <cmath>

#include "kernels/scalar.hpp"

namespace lmx::kernels {

void swiglu(int64_t n, const float* gate, const float* up, float* y) {
    for (int64_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace lmx::kernels
