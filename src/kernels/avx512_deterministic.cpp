// Deterministic multi-row Q4_1 and Q8_0 dots with AVX-512 VNNI: the AVX2 exact kernels
// (exact_dot_rows.inc) with vpdpbusd for the byte products, one instruction where AVX2
// needs two; the integer sums are exact either way, so the bits equal the scalar
// reference's. Compiled with -ffp-contract=off like avx2_deterministic.cpp.

#include "kernels/avx512_intrinsics.hpp"

#include "kernels/avx2.hpp"
#include "kernels/isa_tables.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx512 {

namespace {

using avx2::dot_s8, avx2::half_to_float, avx2::hsum_i32, avx2::load256, avx2::load_u16, avx2::load_u32, avx2::unpack_nibbles;

__m256i dot_bytes(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }

#include "kernels/exact_dot_rows.inc"

}  // namespace

}  // namespace lmx::kernels::avx512

namespace lmx::kernels {

void add_avx512_deterministic_kernels(Table& t) {
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot_rows = avx512::q4_1_q8_1_exact_rows;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot_rows = avx512::q8_0_q8_0_exact_rows;
}

}  // namespace lmx::kernels
