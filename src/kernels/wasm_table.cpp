// Built without -msimd128: it only stores pointers to the wasm_*.cpp kernels.
#include "kernels/isa_tables.hpp"
#include "kernels/wasm.hpp"

namespace lmx::kernels {

void add_wasm_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = wasm::vec_dot_q4_1_q8_1;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = wasm::vec_dot_q8_0_q8_0;
    t.dot_f16_f32 = wasm::dot_f16_f32_exact;  // the lanes8 order is as fast as any other
    t.axpy_f16 = wasm::axpy_f16_exact;
    t.attend_f16 = nullptr;  // two passes over these SIMD128 dots, not the scalar online attend
}

void add_wasm_deterministic_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = wasm::vec_dot_q4_1_q8_1_exact;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = wasm::vec_dot_q8_0_q8_0_exact;
    t.dot_f16_f32 = wasm::dot_f16_f32_exact;
    t.axpy_f16 = wasm::axpy_f16_exact;
}

}  // namespace lmx::kernels
