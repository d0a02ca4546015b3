#pragma once
// onnxruntime's com.microsoft MatMulNBits: A · dequantized(B)ᵀ with B stored as
// blockwise-quantized rows of 2, 4 or 8 bits (the weight format of onnxruntime-genai's
// int4 model exports).
#include <cstdint>
#include <memory>
#include <vector>

#include "base/weight_memory.hpp"
#include "kernels/packed_weights.hpp"
#include "ops/ops.hpp"

namespace lmx::ops::nd {

struct MatMulNBitsParams {
    int64_t k = 0;           // A's last dim
    int64_t n = 0;           // output columns (B's rows)
    int64_t bits = 4;        // 2, 4 or 8
    int64_t block_size = 0;  // elements of K sharing one scale (and zero point)
    int64_t accuracy_level = 0;  // 4: A may be quantized to int8 (onnxruntime's CompInt8)
    // The case computed with int8 products (given packed uint8 zero points, or none).
    bool int8_products() const { return bits == 4 && accuracy_level == 4 && block_size % 32 == 0; }
};
// matmul_nbits(A float [..., K], B u8 [N, k_blocks, block_size·bits/8], scales [N·k_blocks]
//              [, zero_points u8 packed [N, ceil(k_blocks·bits/8)] or A's type [N·k_blocks]]
//              [, g_idx (only the trivial k / block_size)][, bias [N]]) -> [..., N]
// w[n, k] = (q[n, k] - zp) · scale, zp 2^(bits-1) when absent; q packed low bits first.
// Computed in f32, except 4-bit weights at accuracy_level 4 with block_size a multiple of
// 32: there A is quantized to int8 per block, as onnxruntime does, and the products are
// integer (kernels.hpp: DotU4Q8Fn).
// With `packed` (B, f32 scales and zero points repacked into the u4 layout by the
// importer, where they are initializers) the fast table's u4 GEMM takes that case:
// the int8 arithmetic is the same, the rows of a tile are lanes (kernels/packed_weights.hpp).
// 4-bit weights prepared by the importer for the f32 products (not accuracy_level 4) where
// B, f32 scales and packed zero points are initializers: B's bytes in weight memory (huge
// pages: base/weight_memory.hpp) and −zp · scale per block (kernels::u4_offsets), so the
// dot takes a weight as one fused multiply-add.
struct U4F32Weights {
    WeightMemory b;
    std::vector<float> offsets;
};
OpPtr matmul_nbits(const MatMulNBitsParams& p, std::shared_ptr<const kernels::PackedWeights> packed = nullptr,
                   std::shared_ptr<const U4F32Weights> f32 = nullptr);
// Members that read the same A, all repacked (with one K and block_size, no bias, no
// g_idx): one op, A quantized once, one pass over every member's tiles. Inputs: A, then
// per member B, scales, zero_points (absent when it has none); an output per member.
OpPtr matmul_nbits_group(const std::vector<MatMulNBitsParams>& params, std::vector<std::shared_ptr<const kernels::PackedWeights>> packed);

}  // namespace lmx::ops::nd
