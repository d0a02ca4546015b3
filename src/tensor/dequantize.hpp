#pragma once
// Scalar dequantization, following ggml's dequantize_row_* arithmetic operation for
// operation, so the floats are bit-identical to ggml's (checked against goldens from
// the gguf Python package, tests/goldens/dequant/).
#include <cstdint>

#include "tensor/dtype.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx {

// dst[0..n) = the n elements at src (n a whole number of blocks of t). Throws
// lmx::Error for a type that has no dequantizer.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t n);
void dequantize_row_q8_1(const block_q8_1* x, float* y, int64_t n);
void dequantize_row_q2_K(const block_q2_K* x, float* y, int64_t n);
void dequantize_row_q3_K(const block_q3_K* x, float* y, int64_t n);
void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t n);
void dequantize_row_q5_K(const block_q5_K* x, float* y, int64_t n);
void dequantize_row_q6_K(const block_q6_K* x, float* y, int64_t n);
void dequantize_row_q8_K(const block_q8_K* x, float* y, int64_t n);

}  // namespace lmx
