// Reference dot products of the K-quants with Q8_K activations. Each super-block is
// unpacked to plain integers (quants, one scale per 16 elements, mins), then summed in
// integers; only the super-block scales are float.
#include "base/fp16.hpp"
#include "kernels/scalar.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels {

// sum over the 16 sub-blocks of scale[g] * dot(q[16g..], q8[16g..])
static int scaled_dot(const int8_t* q, const int8_t* q8, const int* scale) {
    int sum = 0;
    for (int g = 0; g < QK_K / 16; g++) {
        int s = 0;
        for (int l = 0; l < 16; l++) s += q[16 * g + l] * q8[16 * g + l];
        sum += scale[g] * s;
    }
    return sum;
}

// sum over sub-blocks of 32 of min[j] * sum(q8 of sub-block j), from the Q8_K bsums
static int mins_dot(const block_q8_K& y, const int* min) {
    int sum = 0;
    for (int j = 0; j < QK_K / 32; j++) sum += min[j] * (y.bsums[2 * j] + y.bsums[2 * j + 1]);
    return sum;
}

float vec_dot_q2_K_q8_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q2_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        int scale[16], summs = 0;
        for (int k = 0; k < QK_K; k++) q[k] = static_cast<int8_t>((x[i].qs[k / 128 * 32 + k % 32] >> (2 * (k % 128 / 32))) & 3);
        for (int g = 0; g < 16; g++) {
            scale[g] = x[i].scales[g] & 0xF;
            summs += y[i].bsums[g] * (x[i].scales[g] >> 4);  // the Q2_K mins are per 16 elements
        }
        const float dall = y[i].d * fp16_to_fp32(x[i].d);
        const float dmin = y[i].d * fp16_to_fp32(x[i].dmin);
        sumf += dall * scaled_dot(q, y[i].qs, scale) - dmin * summs;
    }
    return sumf;
}

float vec_dot_q3_K_q8_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q3_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K], sc[16];
        int scale[16];
        for (int k = 0; k < QK_K; k++) {
            const int low = (x[i].qs[k / 128 * 32 + k % 32] >> (2 * (k % 128 / 32))) & 3;
            const bool high = x[i].hmask[k % 32] & (1 << (k / 32));
            q[k] = static_cast<int8_t>(low - (high ? 0 : 4));
        }
        unpack_q3_K_scales(x[i].scales, sc);
        for (int g = 0; g < 16; g++) scale[g] = sc[g];
        sumf += fp16_to_fp32(x[i].d) * y[i].d * scaled_dot(q, y[i].qs, scale);
    }
    return sumf;
}

// The 8 six-bit scales and mins of a Q4_K/Q5_K super-block, scales spread per 16 elements.
static void unpack_k4_scales(const uint8_t* packed, int* scale16, int* min) {
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        get_scale_min_k4(j, packed, &sc, &m);
        scale16[2 * j] = scale16[2 * j + 1] = sc;
        min[j] = m;
    }
}

float vec_dot_q4_K_q8_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        int scale[16], min[8];
        for (int k = 0; k < QK_K; k++)  // 64 elements per 32 bytes: low nibbles, then high
            q[k] = static_cast<int8_t>((x[i].qs[k / 64 * 32 + k % 32] >> (4 * (k % 64 / 32))) & 0xF);
        unpack_k4_scales(x[i].scales, scale, min);
        const float d = y[i].d * fp16_to_fp32(x[i].d);
        const float dmin = y[i].d * fp16_to_fp32(x[i].dmin);
        sumf += d * scaled_dot(q, y[i].qs, scale) - dmin * mins_dot(y[i], min);
    }
    return sumf;
}

float vec_dot_q5_K_q8_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q5_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        int scale[16], min[8];
        for (int k = 0; k < QK_K; k++) {
            const int low = (x[i].qs[k / 64 * 32 + k % 32] >> (4 * (k % 64 / 32))) & 0xF;
            const int high = (x[i].qh[k % 32] >> (k / 32)) & 1;
            q[k] = static_cast<int8_t>(low | (high << 4));
        }
        unpack_k4_scales(x[i].scales, scale, min);
        const float d = y[i].d * fp16_to_fp32(x[i].d);
        const float dmin = y[i].d * fp16_to_fp32(x[i].dmin);
        sumf += d * scaled_dot(q, y[i].qs, scale) - dmin * mins_dot(y[i], min);
    }
    return sumf;
}

float vec_dot_q6_K_q8_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q6_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        int scale[16];
        for (int k = 0; k < QK_K; k++) {  // per 128: ql 64 bytes (low, then high nibbles), qh 32 bytes
            const int half = k / 128, r = k % 128;
            const int low = (x[i].ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0xF;
            const int high = (x[i].qh[half * 32 + r % 32] >> (2 * (r / 32))) & 3;
            q[k] = static_cast<int8_t>((low | (high << 4)) - 32);
        }
        for (int g = 0; g < 16; g++) scale[g] = x[i].scales[g];
        sumf += fp16_to_fp32(x[i].d) * y[i].d * scaled_dot(q, y[i].qs, scale);
    }
    return sumf;
}

}  // namespace lmx::kernels
