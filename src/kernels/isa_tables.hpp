#pragma once
// How dispatch.cpp assembles the per-ISA tables: each ISA's translation units write the
// entries they implement over a copy of the scalar table.
#include "kernels/kernels.hpp"

namespace lmx::kernels {

void add_scalar_kernels(Table& t);
void add_avx2_kernels(Table& t);    // avx2_*.cpp, needs avx2 fma f16c
void add_avx512_kernels(Table& t);  // avx512_*.cpp, needs avx512f/bw/vl/vnni on top of avx2
void add_avx512_bf16_kernels(Table& t);  // avx512_bf16.cpp, needs avx512_bf16 on top of those
void add_avx2_deterministic_kernels(Table& t);  // avx2_deterministic.cpp, bit-identical to scalar
void add_avx512_deterministic_kernels(Table& t);  // avx512_deterministic.cpp, bit-identical to scalar
void add_wasm_kernels(Table& t);                // wasm_*.cpp, WebAssembly SIMD128
void add_wasm_deterministic_kernels(Table& t);  // wasm_deterministic.cpp, bit-identical to scalar

}  // namespace lmx::kernels
