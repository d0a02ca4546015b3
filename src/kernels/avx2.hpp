#pragma once
// The AVX2 kernels (avx2_*.cpp, built with -mavx2 -mfma -mf16c); same contracts as scalar.hpp.
#include <cstdint>

#include "kernels/kernels.hpp"

namespace lmx::kernels::avx2 {

void quantize_row_f16(const float* x, void* y, int64_t n);
void quantize_row_q8_0(const float* x, void* y, int64_t n);
void quantize_row_q8_1(const float* x, void* y, int64_t n);
void quantize_row_q8_K(const float* x, void* y, int64_t n);

float vec_dot_f32(int64_t n, const void* w, const void* a);
float vec_dot_f16(int64_t n, const void* w, const void* a);
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a);
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a);
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);
void add_k_quant_kernels(Table& t);  // avx2_dot_k.cpp: Q4_K and Q6_K, one and several rows

// Deterministic mode (avx2_deterministic.cpp): bit-identical to the scalar reference.
float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a);
void vec_dot_q4_1_q8_1_exact_rows(int64_t n, const void* w, const void* const* a, int nr, float* out);
void vec_dot_q8_0_q8_0_exact_rows(int64_t n, const void* w, const void* const* a, int nr, float* out);
void exp_det(int64_t n, const float* x, float* y);
void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out);

// avx2_attention.cpp
void attend_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* out);
void swiglu(int64_t n, const float* gate, const float* up, float* y);

// avx2_matmul.cpp
void rows_times_matrix_f32(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1);
void gemm_f32_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels, int64_t cols,
                     float* y, int64_t ldy, const float* bias, bool gelu);
void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out);

}  // namespace lmx::kernels::avx2
