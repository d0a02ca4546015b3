#include "tensor/dequantize.hpp"

#include <cstring>

#include "base/error.hpp"
#include "base/fp16.hpp"

namespace lmx {

void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t n) {
    const int64_t nb = n / QK4_0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int x0 = (x[i].qs[j] & 0x0F) - 8;
            const int x1 = (x[i].qs[j] >> 4) - 8;
            y[i * QK4_0 + j] = x0 * d;
            y[i * QK4_0 + j + QK4_0 / 2] = x1 * d;
        }
    }
}

void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t n) {
    const int64_t nb = n / QK4_1;
    for (int64_t i = 0; i < nb; i++) {
        const float d = fp16_to_fp32(x[i].d);
        const float m = fp16_to_fp32(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            const int x0 = x[i].qs[j] & 0x0F;
            const int x1 = x[i].qs[j] >> 4;
            y[i * QK4_1 + j] = x0 * d + m;
            y[i * QK4_1 + j + QK4_1 / 2] = x1 * d + m;
        }
    }
}

void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t n) {
    const int64_t nb = n / QK5_0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = fp16_to_fp32(x[i].d);
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof(qh));
        for (int j = 0; j < QK5_0 / 2; j++) {
            const uint32_t xh_0 = ((qh >> j) << 4) & 0x10;
            const uint32_t xh_1 = (qh >> (j + 12)) & 0x10;
            const int x0 = static_cast<int>((x[i].qs[j] & 0x0Fu) | xh_0) - 16;
            const int x1 = static_cast<int>((x[i].qs[j] >> 4u) | xh_1) - 16;
            y[i * QK5_0 + j] = x0 * d;
            y[i * QK5_0 + j + QK5_0 / 2] = x1 * d;
        }
    }
}

void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t n) {
    const int64_t nb = n / QK5_1;
    for (int64_t i = 0; i < nb; i++) {
        const float d = fp16_to_fp32(x[i].d);
        const float m = fp16_to_fp32(x[i].m);
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof(qh));
        for (int j = 0; j < QK5_1 / 2; j++) {
            const uint32_t xh_0 = ((qh >> j) << 4) & 0x10;
            const uint32_t xh_1 = (qh >> (j + 12)) & 0x10;
            const int x0 = static_cast<int>((x[i].qs[j] & 0x0Fu) | xh_0);
            const int x1 = static_cast<int>((x[i].qs[j] >> 4u) | xh_1);
            y[i * QK5_1 + j] = x0 * d + m;
            y[i * QK5_1 + j + QK5_1 / 2] = x1 * d + m;
        }
    }
}

void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t n) {
    const int64_t nb = n / QK8_0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK8_0; j++) y[i * QK8_0 + j] = x[i].qs[j] * d;
    }
}

// ggml has no Q8_1 dequantizer (it is an activation format); s is redundant with qs.
void dequantize_row_q8_1(const block_q8_1* x, float* y, int64_t n) {
    const int64_t nb = n / QK8_1;
    for (int64_t i = 0; i < nb; i++) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK8_1; j++) y[i * QK8_1 + j] = x[i].qs[j] * d;
    }
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
    dtype_row_bytes(t, n);  // rejects n that is not a whole number of blocks
    switch (t) {
        case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
        case DType::F16: {
            const auto* p = static_cast<const uint8_t*>(src);
            for (int64_t i = 0; i < n; i++) {
                uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                dst[i] = fp16_to_fp32(h);
            }
            return;
        }
        case DType::BF16: {
            const auto* p = static_cast<const uint8_t*>(src);
            for (int64_t i = 0; i < n; i++) {
                uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                dst[i] = bf16_to_fp32(h);
            }
            return;
        }
        case DType::Q4_0: return dequantize_row_q4_0(static_cast<const block_q4_0*>(src), dst, n);
        case DType::Q4_1: return dequantize_row_q4_1(static_cast<const block_q4_1*>(src), dst, n);
        case DType::Q5_0: return dequantize_row_q5_0(static_cast<const block_q5_0*>(src), dst, n);
        case DType::Q5_1: return dequantize_row_q5_1(static_cast<const block_q5_1*>(src), dst, n);
        case DType::Q8_0: return dequantize_row_q8_0(static_cast<const block_q8_0*>(src), dst, n);
        case DType::Q8_1: return dequantize_row_q8_1(static_cast<const block_q8_1*>(src), dst, n);
        case DType::Q2_K: return dequantize_row_q2_K(static_cast<const block_q2_K*>(src), dst, n);
        case DType::Q3_K: return dequantize_row_q3_K(static_cast<const block_q3_K*>(src), dst, n);
        case DType::Q4_K: return dequantize_row_q4_K(static_cast<const block_q4_K*>(src), dst, n);
        case DType::Q5_K: return dequantize_row_q5_K(static_cast<const block_q5_K*>(src), dst, n);
        case DType::Q6_K: return dequantize_row_q6_K(static_cast<const block_q6_K*>(src), dst, n);
        case DType::Q8_K: return dequantize_row_q8_K(static_cast<const block_q8_K*>(src), dst, n);
        default: break;
    }
    fail("cannot dequantize tensors of type ", dtype_name(t),
         ": lmx has no dequantizer for it; use a model quantized to f16/bf16/q4_0..q8_0/q2_K..q6_K");
}

}  // namespace lmx
