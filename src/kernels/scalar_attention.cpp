#include "base/det_math.hpp"
#include "base/fp16.hpp"
#include "kernels/scalar.hpp"

namespace lmx::kernels {

float dot_f16_f32(int64_t n, const uint16_t* x, const float* y) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += fp16_to_fp32(x[i]) * y[i];
    return sum;
}

// Deterministic mode's dot: eight interleaved partial sums combined in a fixed tree, the
// order avx2::dot_f16_f32_exact computes in SIMD (a sequential sum would cost a
// dependent add per element over the whole context).
float dot_f16_f32_lanes8(int64_t n, const uint16_t* x, const float* y) {
    float acc[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += fp16_to_fp32(x[i + k]) * y[i + k];
    float sum = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (; i < n; i++) sum += fp16_to_fp32(x[i]) * y[i];
    return sum;
}

void axpy_f16(int64_t n, float a, const uint16_t* x, float* y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * fp16_to_fp32(x[i]);
}

void exp_det(int64_t n, const float* x, float* y) {
    for (int64_t i = 0; i < n; i++) y[i] = det_exp(x[i]);
}

}  // namespace lmx::kernels
