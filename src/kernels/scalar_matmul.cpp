// Scalar references of the matrix products (kernels.hpp): the f32 row × matrix product and
// the MatMulNBits 4-bit dots, which compute exactly what the ONNX ops did before these
// kernels existed (so the deterministic tables keep those bits), and the GEMMs over
// packed panels, f32 and bf16.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.hpp"
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

void pack_f32_panels(const float* w, int64_t ld, int64_t n, int64_t k, bool transposed, float* panels) {
    for (int64_t p = 0; p < f32_panels(n); p++)
        for (int64_t i = 0; i < k; i++)
            for (int64_t c = 0; c < kF32Panel; c++) {
                const int64_t col = p * kF32Panel + c;
                panels[(p * k + i) * kF32Panel + c] = col >= n ? 0.0f : transposed ? w[col * ld + i] : w[i * ld + col];
            }
}

// Both panel GEMMs: madd(acc, a step of a row, the step's weight) adds one step's products.
template <class A, class W, class Madd>
void gemm_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const A* a, int64_t lda, const W* panels, int64_t cols, float* y,
                 int64_t ldy, const float* bias, bool gelu, Madd madd) {
    for (int64_t r = 0; r < m; r++) {
        const A* ar = a + r * lda;
        float* yr = y + r * ldy;
        for (int64_t c = 0; c < cols; c++) {
            const int64_t at = c / kF32Panel * k * kF32Panel + c % kF32Panel;  // the column's first weight
            float acc = k0 == 0 ? 0.0f : yr[c];
            for (int64_t i = k0; i < k1; i++) acc = madd(acc, ar[i], panels[at + i * kF32Panel]);
            if (k1 == k) {
                if (bias) acc = acc + bias[c];
                if (gelu) acc = gelu_erf(acc);
            }
            yr[c] = acc;
        }
    }
}

void gemm_f32_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels, int64_t cols,
                     float* y, int64_t ldy, const float* bias, bool gelu) {
    gemm_panels(m, k, k0, k1, a, lda, panels, cols, y, ldy, bias, gelu, [](float acc, float x, float w) { return acc + x * w; });
}

void pack_bf16_panels(const float* f32, int64_t n, int64_t k, uint32_t* panels) {
    const int64_t k2 = (k + 1) / 2;
    for (int64_t p = 0; p < f32_panels(n); p++)
        for (int64_t i = 0; i < k2; i++)
            for (int64_t c = 0; c < kF32Panel; c++) {
                const float* col = f32 + p * k * kF32Panel + c;
                const uint32_t lo = fp32_to_bf16(col[2 * i * kF32Panel]);
                const uint32_t hi = 2 * i + 1 < k ? fp32_to_bf16(col[(2 * i + 1) * kF32Panel]) : 0;
                panels[(p * k2 + i) * kF32Panel + c] = lo | hi << 16;
            }
}

void to_bf16_pairs(int64_t k, const float* x, uint32_t* pairs) {
    for (int64_t i = 0; i < k; i += 2)
        pairs[i / 2] = fp32_to_bf16(x[i]) | (i + 1 < k ? uint32_t{fp32_to_bf16(x[i + 1])} << 16 : 0u);
}

void gemm_bf16_panels_scalar(int64_t m, int64_t k2, int64_t k0, int64_t k1, const uint32_t* a, int64_t lda, const uint32_t* panels,
                             int64_t cols, float* y, int64_t ldy, const float* bias, bool gelu) {
    const auto lo = [](uint32_t pair) { return bf16_to_fp32(static_cast<uint16_t>(pair)); };
    const auto hi = [](uint32_t pair) { return bf16_to_fp32(static_cast<uint16_t>(pair >> 16)); };
    gemm_panels(m, k2, k0, k1, a, lda, panels, cols, y, ldy, bias, gelu, [&](float acc, uint32_t x, uint32_t w) {
        acc = acc + hi(x) * hi(w);
        return acc + lo(x) * lo(w);
    });
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

void u4_offsets(const U4Weights& w, int64_t rows, int64_t blocks, float* offsets) {
    for (int64_t c = 0; c < rows; c++)
        for (int64_t j = 0; j < blocks; j++) {
            const int z = w.zp ? (w.zp[c * w.zp_stride + j / 2] >> (j % 2 * 4)) & 0xF : 8;
            offsets[c * blocks + j] = -static_cast<float>(z) * w.scales[c * w.scales_stride + j];
        }
}

void quantize_u4_q8(const float* x, void* y, int64_t k, int64_t group) {
    auto* q = static_cast<int8_t*>(y);
    const int64_t chunks = u4_q8_chunks(k);
    float* scales = reinterpret_cast<float*>(q + 32 * chunks);
    for (int64_t g0 = 0; g0 < k; g0 += group) {
        const int64_t g1 = std::min(k, g0 + group);
        float amax = 0.0f;
        for (int64_t i = g0; i < g1; i++) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        for (int64_t c = g0 / 32; c < (g1 + 31) / 32; c++) {
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                const int v = c * 32 + i < g1 ? static_cast<int>(std::nearbyint(x[c * 32 + i] * inv)) : 0;
                q[c * 32 + (i % 2) * 16 + i / 2] = static_cast<int8_t>(v);
                sum += v;
            }
            const float ds = d * static_cast<float>(sum);
            std::memcpy(scales + c, &d, 4);
            std::memcpy(scales + chunks + c, &ds, 4);
        }
    }
}

// Per 32 values: sw·d·Σ q_w·q_a - z·sw·(d·Σq_a), the chunks summed in order.
static float dot_u4_q8_row(int64_t k, int64_t block_size, const uint8_t* q, const float* scales_w, const uint8_t* zp, const int8_t* qa) {
    const int64_t chunks = u4_q8_chunks(k);
    const auto* scales_a = reinterpret_cast<const uint8_t*>(qa + 32 * chunks);
    float sum = 0.0f;
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t blk = c * 32 / block_size;
        const float z = zp ? static_cast<float>((zp[blk / 2] >> (blk % 2 * 4)) & 0xF) : 8.0f;
        const float sw = scales_w[blk];
        const uint8_t* qb = q + c * 16;
        int idot = 0;
        for (int i = 0; i < 16; i++) idot += (qb[i] & 0xF) * qa[c * 32 + i] + (qb[i] >> 4) * qa[c * 32 + 16 + i];
        float d, ds;
        std::memcpy(&d, scales_a + 4 * c, 4);
        std::memcpy(&ds, scales_a + 4 * (chunks + c), 4);
        sum += sw * d * static_cast<float>(idot) - z * sw * ds;
    }
    return sum;
}

void dot_u4_q8(int64_t k, int64_t block_size, const U4Weights& w, int64_t nw, const void* const* a, int nr, float* out) {
    for (int r = 0; r < nr; r++)
        for (int64_t c = 0; c < nw; c++)
            out[r * nw + c] = dot_u4_q8_row(k, block_size, w.q + c * w.q_stride, w.scales + c * w.scales_stride,
                                            w.zp ? w.zp + c * w.zp_stride : nullptr, static_cast<const int8_t*>(a[r]));
}

}  // namespace lmx::kernels
