// Built without -msimd128: it only stores pointers to the wasm_*.cpp kernels.
#include "kernels/isa_tables.hpp"
#include "kernels/wasm.hpp"

namespace lmx::kernels {

void add_wasm_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = wasm::vec_dot_q4_1_q8_1;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = wasm::vec_dot_q8_0_q8_0;
    t.attend_f16 = nullptr;  // the two-pass attend_det_f16 over SIMD128 dots, not the scalar online attend
    t.attend_det_f16 = wasm::attend_det_f16;
    // Q4_1 and Q8_0/Q5_0/Q4_0 weights are repacked at load for these (Q4_K keeps its row dots)
    t.packed[static_cast<int>(PackedLayout::q4_1)] = wasm::packed_q4_1;
    t.packed[static_cast<int>(PackedLayout::q8)] = wasm::packed_q8;
}

void add_wasm_deterministic_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = wasm::vec_dot_q4_1_q8_1_exact;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = wasm::vec_dot_q8_0_q8_0_exact;
}

}  // namespace lmx::kernels
