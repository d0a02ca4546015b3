#pragma once
// Test helpers: which ISAs run here, and random test rows for the kernel tests: weights as random valid blocks (random bytes,
// with the fp16 scales set to finite halves of moderate size), activations as floats.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "base/fp16.hpp"
#include "kernels/kernels.hpp"
#include "tensor/dtype.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::test {

inline bool available(kernels::Isa isa) {
    const std::vector<kernels::Isa> isas = kernels::available_isas();
    return std::find(isas.begin(), isas.end(), isa) != isas.end();
}

inline std::vector<float> random_floats(int64_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// Byte offsets of the fp16 scale fields in one block of t.
inline std::vector<size_t> half_fields(DType t) {
    switch (t) {
        case DType::Q4_0: return {offsetof(block_q4_0, d)};
        case DType::Q4_1: return {offsetof(block_q4_1, d), offsetof(block_q4_1, m)};
        case DType::Q5_0: return {offsetof(block_q5_0, d)};
        case DType::Q5_1: return {offsetof(block_q5_1, d), offsetof(block_q5_1, m)};
        case DType::Q8_0: return {offsetof(block_q8_0, d)};
        case DType::Q2_K: return {offsetof(block_q2_K, d), offsetof(block_q2_K, dmin)};
        case DType::Q3_K: return {offsetof(block_q3_K, d)};
        case DType::Q4_K: return {offsetof(block_q4_K, d), offsetof(block_q4_K, dmin)};
        case DType::Q5_K: return {offsetof(block_q5_K, d), offsetof(block_q5_K, dmin)};
        case DType::Q6_K: return {offsetof(block_q6_K, d)};
        default: return {};
    }
}

inline std::vector<uint8_t> random_weight_row(DType t, int64_t n, std::mt19937& rng) {
    std::vector<uint8_t> row(dtype_row_bytes(t, n));
    if (!dtype_info(t).quantized) {  // F32, F16, BF16: random values
        const std::vector<float> v = random_floats(n, rng);
        for (int64_t i = 0; i < n; i++) {
            if (t == DType::F32) std::memcpy(&row[4 * i], &v[i], 4);
            const uint16_t h = t == DType::F16 ? fp32_to_fp16(v[i]) : static_cast<uint16_t>(fp32_to_bits(v[i]) >> 16);
            if (t != DType::F32) std::memcpy(&row[2 * i], &h, 2);
        }
        return row;
    }
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t& b : row) b = static_cast<uint8_t>(byte(rng));
    std::uniform_real_distribution<float> exponent(-8.0f, -2.0f);
    const size_t block_bytes = dtype_info(t).block_bytes;
    for (size_t off = 0; off < row.size(); off += block_bytes) {
        for (size_t field : half_fields(t)) {
            const float v = std::exp2(exponent(rng)) * (byte(rng) & 1 ? -1.0f : 1.0f);
            const uint16_t h = fp32_to_fp16(v);
            std::memcpy(&row[off + field], &h, 2);
        }
    }
    return row;
}

}  // namespace lmx::test
