#include <cmath>

#include "base/det_math.hpp"
#include "base/fp16.hpp"
#include "kernels/attend_two_pass.hpp"
#include "kernels/scalar.hpp"

namespace lmx::kernels {

// The reference, one position at a time: per head the running maximum m and sum l of
// e^(s_j - m), out holding Σ e^(s_j - m) v_j, both rescaled whenever m grows.
void attend_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* out) {
    float m[kMaxAttendGroup], l[kMaxAttendGroup];
    for (int g = 0; g < group; g++) m[g] = -INFINITY, l[g] = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(group) * hd; i++) out[i] = 0;
    for (int64_t j = 0; j < n; j++) {
        const uint16_t* kj = k + j * stride;
        const uint16_t* vj = v + j * stride;
        for (int g = 0; g < group; g++) {
            const float* qg = q + static_cast<int64_t>(g) * hd;
            float* o = out + static_cast<int64_t>(g) * hd;
            float s = 0;
            for (int i = 0; i < hd; i++) s += fp16_to_fp32(kj[i]) * qg[i];
            s *= scale;
            if (s > m[g]) {
                const float f = std::exp(m[g] - s);
                l[g] *= f;
                for (int i = 0; i < hd; i++) o[i] *= f;
                m[g] = s;
            }
            const float e = std::exp(s - m[g]);
            l[g] += e;
            for (int i = 0; i < hd; i++) o[i] += e * fp16_to_fp32(vj[i]);
        }
    }
    for (int g = 0; g < group; g++)
        for (int i = 0; i < hd; i++) out[static_cast<int64_t>(g) * hd + i] /= l[g];
}

// attend_det_f16's dot: eight interleaved partial sums combined in a fixed tree, an order
// SIMD follows (a sequential sum would cost a dependent add per element of the context).
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

void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out) {
    attend_two_pass<dot_f16_f32_lanes8, axpy_f16, exp_det>(group, hd, q, k, v, stride, n, scale, scores, out);
}

}  // namespace lmx::kernels
