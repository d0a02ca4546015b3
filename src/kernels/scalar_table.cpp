#include "kernels/isa_tables.hpp"
#include "kernels/scalar.hpp"

namespace lmx::kernels {

static void set(Table& t, DType w, DType act, VecDotFn fn) {
    t.weight[static_cast<int>(w)] = {act, fn};
}

// Activation types follow ggml's vec_dot_type, so the numerics follow llama.cpp's;
// except BF16, which multiplies f32 activations directly (ggml rounds them to bf16).
void add_scalar_kernels(Table& t) {
    t.quantize[static_cast<int>(DType::F32)] = quantize_row_f32;
    t.quantize[static_cast<int>(DType::F16)] = quantize_row_f16;
    t.quantize[static_cast<int>(DType::Q8_0)] = quantize_row_q8_0;
    t.quantize[static_cast<int>(DType::Q8_1)] = quantize_row_q8_1;
    t.quantize[static_cast<int>(DType::Q8_K)] = quantize_row_q8_K;

    t.attend_f16 = attend_f16;
    t.attend_det_f16 = attend_det_f16;
    t.swiglu = swiglu;
    t.softmax_row = softmax_row;
    t.exp_det = exp_det;
    t.rows_times_matrix_f32 = rows_times_matrix_f32;
    t.gemm_f32_panels = gemm_f32_panels;
    t.to_bf16_pairs = to_bf16_pairs;
    t.dot_u4_f32 = dot_u4_f32;
    t.quantize_u4_q8 = quantize_u4_q8;
    t.dot_u4_q8 = dot_u4_q8;

    set(t, DType::F32, DType::F32, vec_dot_f32);
    set(t, DType::F16, DType::F16, vec_dot_f16);
    set(t, DType::BF16, DType::F32, vec_dot_bf16_f32);
    set(t, DType::Q4_0, DType::Q8_0, vec_dot_q4_0_q8_0);
    set(t, DType::Q4_1, DType::Q8_1, vec_dot_q4_1_q8_1);
    set(t, DType::Q5_0, DType::Q8_0, vec_dot_q5_0_q8_0);
    set(t, DType::Q5_1, DType::Q8_1, vec_dot_q5_1_q8_1);
    set(t, DType::Q8_0, DType::Q8_0, vec_dot_q8_0_q8_0);
    set(t, DType::Q2_K, DType::Q8_K, vec_dot_q2_K_q8_K);
    set(t, DType::Q3_K, DType::Q8_K, vec_dot_q3_K_q8_K);
    set(t, DType::Q4_K, DType::Q8_K, vec_dot_q4_K_q8_K);
    set(t, DType::Q5_K, DType::Q8_K, vec_dot_q5_K_q8_K);
    set(t, DType::Q6_K, DType::Q8_K, vec_dot_q6_K_q8_K);
}

}  // namespace lmx::kernels
