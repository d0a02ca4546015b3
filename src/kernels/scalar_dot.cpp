// Reference dot products of the float types and the 32-element block quants, in
// ggml's arithmetic: integer sums per block, then one float multiply-add per block.
#include <cstring>

#include "base/fp16.hpp"
#include "kernels/scalar.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels {

static uint16_t load_u16(const void* p, int64_t i) {
    uint16_t h;
    std::memcpy(&h, static_cast<const uint8_t*>(p) + 2 * i, 2);
    return h;
}

float vec_dot_f32(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const float*>(w);
    const auto* y = static_cast<const float*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += static_cast<double>(x[i] * y[i]);
    return static_cast<float>(sum);
}

float vec_dot_f16(int64_t n, const void* w, const void* a) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += static_cast<double>(fp16_to_fp32(load_u16(w, i)) * fp16_to_fp32(load_u16(a, i)));
    return static_cast<float>(sum);
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* a) {
    const auto* y = static_cast<const float*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += static_cast<double>(bf16_to_fp32(load_u16(w, i)) * y[i]);
    return static_cast<float>(sum);
}

float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / QK8_0; ib++) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK8_0 / 2; j++) {
            sumi0 += ((x[ib].qs[j] & 0x0F) - 8) * y[ib].qs[j];
            sumi1 += ((x[ib].qs[j] >> 4) - 8) * y[ib].qs[j + QK8_0 / 2];
        }
        sumf += (sumi0 + sumi1) * fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d);
    }
    return sumf;
}

float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_1*>(w);
    const auto* y = static_cast<const block_q8_1*>(a);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / QK8_1; ib++) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK8_1 / 2; j++) {
            sumi0 += (x[ib].qs[j] & 0x0F) * y[ib].qs[j];
            sumi1 += (x[ib].qs[j] >> 4) * y[ib].qs[j + QK8_1 / 2];
        }
        // sum((q*d + m) * a) = d*da*sum(q*qa) + m*(da*sum(qa)), and y.s holds da*sum(qa)
        sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * (sumi0 + sumi1) +
                fp16_to_fp32(x[ib].m) * fp16_to_fp32(y[ib].s);
    }
    return sumf;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q5_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / QK8_0; ib++) {
        uint32_t qh;
        std::memcpy(&qh, x[ib].qh, sizeof(qh));
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK8_0 / 2; j++) {
            const int xh_0 = static_cast<int>(((qh >> j) << 4) & 0x10);
            const int xh_1 = static_cast<int>((qh >> (j + 12)) & 0x10);
            sumi0 += (((x[ib].qs[j] & 0x0F) | xh_0) - 16) * y[ib].qs[j];
            sumi1 += (((x[ib].qs[j] >> 4) | xh_1) - 16) * y[ib].qs[j + QK8_0 / 2];
        }
        sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * (sumi0 + sumi1);
    }
    return sumf;
}

float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q5_1*>(w);
    const auto* y = static_cast<const block_q8_1*>(a);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / QK8_1; ib++) {
        uint32_t qh;
        std::memcpy(&qh, x[ib].qh, sizeof(qh));
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < QK8_1 / 2; j++) {
            const int xh_0 = static_cast<int>(((qh >> j) << 4) & 0x10);
            const int xh_1 = static_cast<int>((qh >> (j + 12)) & 0x10);
            sumi0 += ((x[ib].qs[j] & 0x0F) | xh_0) * y[ib].qs[j];
            sumi1 += ((x[ib].qs[j] >> 4) | xh_1) * y[ib].qs[j + QK8_1 / 2];
        }
        sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * (sumi0 + sumi1) +
                fp16_to_fp32(x[ib].m) * fp16_to_fp32(y[ib].s);
    }
    return sumf;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / QK8_0; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += x[ib].qs[j] * y[ib].qs[j];
        sumf += sumi * (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d));
    }
    return sumf;
}

}  // namespace lmx::kernels
