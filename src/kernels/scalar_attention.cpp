#include "base/fp16.hpp"
#include "kernels/scalar.hpp"

namespace lmx::kernels {

float dot_f16_f32(int64_t n, const uint16_t* x, const float* y) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += fp16_to_fp32(x[i]) * y[i];
    return sum;
}

void axpy_f16(int64_t n, float a, const uint16_t* x, float* y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * fp16_to_fp32(x[i]);
}

}  // namespace lmx::kernels
