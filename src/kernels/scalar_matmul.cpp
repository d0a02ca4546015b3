// Scalar references of the ONNX matrix products (kernels.hpp): the f32 row × matrix
// product and the MatMulNBits 4-bit dot. They compute exactly what the ONNX ops did
// before these kernels existed, so the deterministic tables keep those bits.
#include <algorithm>

#include "kernels/scalar.hpp"

namespace lmx::kernels {

// Each row accumulates in y itself, the inner loop along b's contiguous rows.
void rows_times_matrix_f32(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < m; r++) {
        const float* ar = a + r * k;
        float* yr = y + r * n;
        for (int64_t c = c0; c < c1; c++) yr[c] = 0.0f;
        for (int64_t i = 0; i < k; i++) {
            const float ai = ar[i];
            const float* bi = b + i * n;
            for (int64_t c = c0; c < c1; c++) yr[c] = yr[c] + ai * bi[c];
        }
    }
}

// Each weight dequantized to a float, (q - z) · scale, then the products summed in double
// like vec_dot_f32.
static float dot_u4_row(int64_t k, int64_t block_size, const uint8_t* q, const float* scales, const uint8_t* zp, const float* a) {
    double sum = 0;
    for (int64_t k0 = 0, blk = 0; k0 < k; k0 += block_size, blk++) {
        const float z = zp ? static_cast<float>((zp[blk / 2] >> (blk % 2 * 4)) & 0xF) : 8.0f;
        const uint8_t* qb = q + blk * (block_size / 2);
        const int64_t len = std::min(block_size, k - k0);
        for (int64_t i = 0; i < len; i++) {
            const float w = (static_cast<float>((qb[i / 2] >> (i % 2 * 4)) & 0xF) - z) * scales[blk];
            sum += static_cast<double>(w * a[k0 + i]);
        }
    }
    return static_cast<float>(sum);
}

void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out) {
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nw; c++)
            out[r * nw + c] = dot_u4_row(k, block_size, w.q + c * w.q_stride, w.scales + c * w.scales_stride,
                                         w.zp ? w.zp + c * w.zp_stride : nullptr, a[r]);
}

}  // namespace lmx::kernels
