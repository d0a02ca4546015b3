// WASM SIMD128 GEMMs of the repacked q4_1 and q8 layouts (packed_weights.hpp), bit-identical
// to packed_q4_1_scalar / packed_q8_scalar and so to the scalar row dots: deterministic
// mode takes them too (PackedWeights::equals_row_dot).
//
// Why they beat the row dots (vec_dot_q4_1_q8_1: ~40 instructions per 32-value block and
// row): a tile's 16 rows are the lanes. Four weight bytes of a row (one i32 lane) widen to
// i16 and meet four activation values repeated across the register in one i32x4.dot_i16x8_s
// (x86 pmaddwd), so an 8-product multiply-add costs one instruction and the activations
// are widened once per block for all 16 rows; the scales are f32 already (no fp16
// conversions per row) and apply to four rows per instruction. Integer sums are exact, and
// each lane then runs the scalar reference's float operations in its order (the file is
// built with -ffp-contract=off, and SIMD128 has no fused multiply-add).
#include "kernels/packed_weights.hpp"
#include "kernels/simd_wasm.hpp"
#include "kernels/wasm.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::wasm {

namespace {

// Lanes i32 [r0 (b0·y0 + b1·y1), r0 (b2·y2 + b3·y3), r1 (…), r1 (…)] of rows 0, 1 and
// the same of rows 2, 3 to the four rows' totals.
v128_t row_totals(v128_t rows01, v128_t rows23) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(rows01, rows23, 0, 2, 4, 6), wasm_i32x4_shuffle(rows01, rows23, 1, 3, 5, 7));
}

// Sixteen int8 activation values as four i16x8 registers, each holding four consecutive
// values twice ([y0..y3, y0..y3], [y4..y7, y4..y7], …): the partner of a register of two
// rows' four weight bytes each.
void repeated_fours(const int8_t* y, v128_t out[4]) {
    const v128_t v = load128(y);
    const v128_t lo = wasm_i16x8_extend_low_i8x16(v), hi = wasm_i16x8_extend_high_i8x16(v);
    out[0] = wasm_i64x2_shuffle(lo, lo, 0, 0);
    out[1] = wasm_i64x2_shuffle(lo, lo, 1, 1);
    out[2] = wasm_i64x2_shuffle(hi, hi, 0, 0);
    out[3] = wasm_i64x2_shuffle(hi, hi, 1, 1);
}

// One activation row (Q8_1) against a q4_1 tile: y[lane] for the 16 lanes.
void q4_1_row(int64_t k, const uint8_t* tile, const block_q8_1* x, float* y) {
    const v128_t nibble = wasm_i16x8_splat(0x0F);
    v128_t acc[4] = {wasm_f32x4_splat(0), wasm_f32x4_splat(0), wasm_f32x4_splat(0), wasm_f32x4_splat(0)};
    for (int64_t i = 0; i < k / QK8_1; i++) {
        const uint8_t* base = tile + static_cast<size_t>(i) * kPackedQ41Bytes;
        const uint8_t* q = base + 128;
        v128_t ylo[4], yhi[4];  // chunk c: elements 4c..4c+3 (low nibbles), 16+4c.. (high ones)
        repeated_fours(x[i].qs, ylo);
        repeated_fours(x[i].qs + 16, yhi);
        const v128_t yd = wasm_f32x4_splat(fp16_to_fp32(x[i].d)), ys = wasm_f32x4_splat(fp16_to_fp32(x[i].s));
        for (int g = 0; g < 4; g++) {  // lanes 4g .. 4g + 3
            v128_t s01 = wasm_i32x4_splat(0), s23 = wasm_i32x4_splat(0);
            for (int c = 0; c < 4; c++) {
                const v128_t b = load128(q + c * 64 + g * 16);  // rows 4g..4g+3, four bytes each
                const v128_t b01 = wasm_u16x8_extend_low_u8x16(b), b23 = wasm_u16x8_extend_high_u8x16(b);
                s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(wasm_v128_and(b01, nibble), ylo[c]));
                s23 = wasm_i32x4_add(s23, wasm_i32x4_dot_i16x8(wasm_v128_and(b23, nibble), ylo[c]));
                s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(b01, 4), yhi[c]));
                s23 = wasm_i32x4_add(s23, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(b23, 4), yhi[c]));
            }
            const v128_t sum = wasm_f32x4_convert_i32x4(row_totals(s01, s23));
            const v128_t d = wasm_v128_load(base + 16 * g), m = wasm_v128_load(base + 64 + 16 * g);
            // the scalar's acc += (d·y.d)·sum + m·y.s
            acc[g] = wasm_f32x4_add(acc[g], wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(d, yd), sum), wasm_f32x4_mul(m, ys)));
        }
    }
    for (int g = 0; g < 4; g++) wasm_v128_store(y + 4 * g, acc[g]);
}

// One activation row (Q8_0) against a q8 tile (signed weight bytes; the layout's bias term
// is for unsigned activations and not needed here).
void q8_row(int64_t k, const uint8_t* tile, const block_q8_0* x, float* y) {
    v128_t acc[4] = {wasm_f32x4_splat(0), wasm_f32x4_splat(0), wasm_f32x4_splat(0), wasm_f32x4_splat(0)};
    for (int64_t i = 0; i < k / QK8_0; i++) {
        const uint8_t* base = tile + static_cast<size_t>(i) * kPackedQ8Bytes;
        const uint8_t* w = base + 128;
        v128_t yc[8];  // chunk c: elements 4c .. 4c + 3
        repeated_fours(x[i].qs, yc);
        repeated_fours(x[i].qs + 16, yc + 4);
        const v128_t yd = wasm_f32x4_splat(fp16_to_fp32(x[i].d));
        for (int g = 0; g < 4; g++) {
            v128_t s01 = wasm_i32x4_splat(0), s23 = wasm_i32x4_splat(0);
            for (int c = 0; c < 8; c++) {
                const v128_t b = load128(w + c * 64 + g * 16);
                s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(b), yc[c]));
                s23 = wasm_i32x4_add(s23, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(b), yc[c]));
            }
            const v128_t sum = wasm_f32x4_convert_i32x4(row_totals(s01, s23));
            // the scalar's acc += (d·y.d)·sum
            acc[g] = wasm_f32x4_add(acc[g], wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(base + 16 * g), yd), sum));
        }
    }
    for (int g = 0; g < 4; g++) wasm_v128_store(y + 4 * g, acc[g]);
}

}  // namespace

void packed_q4_1(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    for (int r = 0; r < nr; r++) q4_1_row(k, tile, static_cast<const block_q8_1*>(a[r]), y + r * ldy);
}

void packed_q8(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    for (int r = 0; r < nr; r++) q8_row(k, tile, static_cast<const block_q8_0*>(a[r]), y + r * ldy);
}

}  // namespace lmx::kernels::wasm
