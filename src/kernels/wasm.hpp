#pragma once
// WebAssembly SIMD128 kernels (wasm_*.cpp, compiled with -msimd128). Declared without
// SIMD types so wasm_table.cpp needs no ISA flags.
#include <cstdint>

namespace lmx::kernels::wasm {

// The fast path: integer block sums in SIMD, four blocks' scales at once, partial sums
// in four lanes (not the scalar order; within the tolerance every ISA is tested to).
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);

// Deterministic mode: bit-identical to the scalar reference (scalar_dot.cpp,
// scalar_attention.cpp's dot_f16_f32_lanes8 and axpy_f16).
float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a);
float dot_f16_f32_exact(int64_t n, const uint16_t* x, const float* y);
void axpy_f16_exact(int64_t n, float a, const uint16_t* x, float* y);

}  // namespace lmx::kernels::wasm
