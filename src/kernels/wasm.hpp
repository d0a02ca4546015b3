#pragma once
// WebAssembly SIMD128 kernels (wasm_*.cpp, compiled with -msimd128). Declared without
// SIMD types so wasm_table.cpp needs no ISA flags.
#include <cstdint>

namespace lmx::kernels::wasm {

// The fast path: integer block sums in SIMD, four blocks' scales at once, partial sums
// in four lanes (not the scalar order; within the tolerance every ISA is tested to).
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);

// The repacked layouts' GEMMs (a PackedFn each, packed_weights.hpp): bit-identical to
// their scalar references, so both the fast and the deterministic table take them.
void packed_q4_1(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);
void packed_q8(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);

// Deterministic mode: bit-identical to the scalar reference (scalar_dot.cpp,
// scalar_attention.cpp's attend_det_f16 over SIMD128 dots and axpys).
float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a);
void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out);

}  // namespace lmx::kernels::wasm
