// Built without ISA flags: it only stores pointers to the avx2_*.cpp kernels.
#include "kernels/avx2.hpp"
#include "kernels/isa_tables.hpp"

namespace lmx::kernels {

void add_avx2_kernels(Table& t) {
    t.quantize[static_cast<int>(DType::F16)] = avx2::quantize_row_f16;
    t.quantize[static_cast<int>(DType::Q8_0)] = avx2::quantize_row_q8_0;
    t.quantize[static_cast<int>(DType::Q8_1)] = avx2::quantize_row_q8_1;
    t.quantize[static_cast<int>(DType::Q8_K)] = avx2::quantize_row_q8_K;

    t.attend_f16 = avx2::attend_f16;
    t.swiglu = avx2::swiglu;
    t.exp_det = avx2::exp_det;  // exact: the deterministic tables keep it and attend_det_f16
    t.attend_det_f16 = avx2::attend_det_f16;
    t.rows_times_matrix_f32 = avx2::rows_times_matrix_f32;
    t.gemm_f32_panels = avx2::gemm_f32_panels;
    t.dot_u4_f32 = avx2::dot_u4_f32;

    t.weight[static_cast<int>(DType::F32)].vec_dot = avx2::vec_dot_f32;
    t.weight[static_cast<int>(DType::F16)].vec_dot = avx2::vec_dot_f16;
    t.weight[static_cast<int>(DType::Q4_0)].vec_dot = avx2::vec_dot_q4_0_q8_0;
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = avx2::vec_dot_q4_1_q8_1;
    t.weight[static_cast<int>(DType::Q5_0)].vec_dot = avx2::vec_dot_q5_0_q8_0;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = avx2::vec_dot_q8_0_q8_0;
    avx2::add_k_quant_kernels(t);
}

void add_avx2_deterministic_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = avx2::vec_dot_q4_1_q8_1_exact;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = avx2::vec_dot_q8_0_q8_0_exact;
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot_rows = avx2::vec_dot_q4_1_q8_1_exact_rows;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot_rows = avx2::vec_dot_q8_0_q8_0_exact_rows;
}

}  // namespace lmx::kernels
