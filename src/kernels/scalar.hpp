#pragma once
// The portable reference kernels. The SIMD files call them for leftover blocks, and the
// tests compare every ISA against them.
#include <cstdint>

#include "kernels/kernels.hpp"

namespace lmx::kernels {

// Activation quantizers. Rounding is to nearest, ties to even, on every ISA (ggml's
// *_ref quantizers use roundf, ties away from zero, but its AVX2 ones round to even);
// scales follow the *_ref formulas, so all our ISAs produce the same bytes.
void quantize_row_f32(const float* x, void* y, int64_t n);
void quantize_row_f16(const float* x, void* y, int64_t n);
void quantize_row_q8_0(const float* x, void* y, int64_t n);
void quantize_row_q8_1(const float* x, void* y, int64_t n);
void quantize_row_q8_K(const float* x, void* y, int64_t n);

float vec_dot_f32(int64_t n, const void* w, const void* a);
float vec_dot_f16(int64_t n, const void* w, const void* a);
float vec_dot_bf16_f32(int64_t n, const void* w, const void* a);
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a);
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a);
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a);
float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);
float vec_dot_q2_K_q8_K(int64_t n, const void* w, const void* a);
float vec_dot_q3_K_q8_K(int64_t n, const void* w, const void* a);
float vec_dot_q4_K_q8_K(int64_t n, const void* w, const void* a);
float vec_dot_q5_K_q8_K(int64_t n, const void* w, const void* a);
float vec_dot_q6_K_q8_K(int64_t n, const void* w, const void* a);

// scalar_attention.cpp
void attend_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* out);
float dot_f16_f32_lanes8(int64_t n, const uint16_t* x, const float* y);  // attend_det_f16's pieces
void axpy_f16(int64_t n, float a, const uint16_t* x, float* y);
void exp_det(int64_t n, const float* x, float* y);
void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out);

void swiglu(int64_t n, const float* gate, const float* up, float* y);  // scalar_activations.cpp
void softmax_row(int64_t n, float* x, float scale);                    // scalar_activations.cpp

// scalar_matmul.cpp: the f32 matrix product and the MatMulNBits 4-bit dots (kernels.hpp).
void rows_times_matrix_f32(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1);
void to_bf16_pairs(int64_t k, const float* x, uint32_t* pairs);
void gemm_f32_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels, int64_t cols,
                     float* y, int64_t ldy, const float* bias, bool gelu);
void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out);
void quantize_u4_q8(const float* x, void* y, int64_t k, int64_t group);
void dot_u4_q8(int64_t k, int64_t block_size, const U4Weights& w, int64_t nw, const void* const* a, int nr, float* out);

}  // namespace lmx::kernels
