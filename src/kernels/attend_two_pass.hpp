#pragma once
// attend_det_f16 (kernels.hpp) over an ISA's exact pieces, inlined: its 8-lane fp16 dot
// (dot_f16_f32_lanes8's order), its axpy (multiply, then add) and its exp_det. The
// scalar, AVX2 and WASM SIMD128 tables instantiate it with their own; AVX-512 has a
// version of its own that returns these bits.
#include <cmath>
#include <cstdint>

#include "kernels/kernels.hpp"

namespace lmx::kernels {

template <DotF16F32Fn dot, AxpyF16Fn axpy, ExpRowFn exp_row>
void attend_two_pass(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                     float scale, float* scores, float* out) {
    float max_s[kMaxAttendGroup], sum[kMaxAttendGroup];
    for (int g = 0; g < group; g++) max_s[g] = -INFINITY, sum[g] = 0;
    for (int64_t j = 0; j < n; j++)
        for (int g = 0; g < group; g++) {
            const float s = dot(hd, k + j * stride, q + static_cast<int64_t>(g) * hd) * scale;
            scores[g * n + j] = s;
            max_s[g] = s > max_s[g] ? s : max_s[g];
        }
    for (int g = 0; g < group; g++) {
        float* sg = scores + g * n;
        for (int64_t j = 0; j < n; j++) sg[j] -= max_s[g];
        exp_row(n, sg, sg);
    }
    for (int64_t j = 0; j < n; j++)  // heads inner: their sums are independent chains
        for (int g = 0; g < group; g++) sum[g] += scores[g * n + j];
    for (int64_t i = 0; i < static_cast<int64_t>(group) * hd; i++) out[i] = 0;
    for (int64_t j = 0; j < n; j++)
        for (int g = 0; g < group; g++) axpy(hd, scores[g * n + j], v + j * stride, out + static_cast<int64_t>(g) * hd);
    for (int g = 0; g < group; g++)
        for (int i = 0; i < hd; i++) out[static_cast<int64_t>(g) * hd + i] /= sum[g];
}

}  // namespace lmx::kernels
