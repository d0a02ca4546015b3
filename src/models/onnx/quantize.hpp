#pragma once
// 4-bit weight-only quantization of an ONNX model, the same transform as onnxruntime
// 1.22's MatMulNBitsQuantizer with its default (round-to-nearest) algorithm:
//   MatMul whose B is a 2-D float initializer [K, N]
//     -> com.microsoft MatMulNBits(A, B_Q4 uint8 [N, k_blocks, block/2], B_scales float
//        [N * k_blocks], B_zero_points uint8 [N * ceil(k_blocks / 2)] when asymmetric)
//   Gather whose data is a 2-D float initializer [rows, cols] (with `embeddings`)
//     -> com.microsoft GatherBlockQuantized(data_Q4 uint4/int4 [rows, cols], indices,
//        data_scales float [rows, col_blocks], data_zero_points uint4 [rows, col_blocks])
// with onnxruntime's names, attributes, initializer order and arithmetic, so the bytes
// equal what its Python API writes for the same settings. Unused initializers are
// dropped afterwards, as onnxruntime's clean-up does. fp16 weights are left as they are
// (onnxruntime would quantize them with fp16 scales).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "formats/onnx.hpp"

namespace lmx::models {

struct QuantizeOptions {
    int bits = 4;                 // only 4 (onnxruntime's 8-bit path is not implemented)
    int64_t block_size = 32;      // 16, 32, 64 or 128 weights per scale
    bool symmetric = false;       // scale only (zero point 8) instead of scale + zero point
    std::optional<int64_t> accuracy_level;  // MatMulNBits' attribute, written only when set
    bool embeddings = false;      // also Gather -> GatherBlockQuantized (quantize_axis 1)
    // Called after each weight: (weight bytes done, weight bytes in all).
    std::function<void(size_t, size_t)> progress;
};

// Throws lmx::Error for bad options and for a model with nothing to quantize.
onnx::Model quantize(onnx::Model model, const QuantizeOptions& opt);

}  // namespace lmx::models
