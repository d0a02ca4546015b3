#pragma once
// Shared helpers of the wasm_*.cpp kernels (include only from files built with -msimd128).
#include <wasm_simd128.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base/fp16.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::wasm {

// halves4x2 reads these pairs as one 32-bit word.
static_assert(offsetof(block_q4_1, m) == offsetof(block_q4_1, d) + 2);
static_assert(offsetof(block_q8_1, s) == offsetof(block_q8_1, d) + 2);

inline v128_t load128(const void* p) { return wasm_v128_load(p); }

// Four int32 partial sums of one 32-element block: x0·y0 + x1·y1, 16 bytes each, with
// |x| <= 128 and |y| <= 127 (our activations). Two products fit an int16 sum
// (2 * 128 * 127 < 2^15), then pairs widen to int32: exact, so any order is the scalar's.
inline v128_t dot_s8_block(v128_t x0, v128_t x1, v128_t y0, v128_t y1) {
    const v128_t a = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(x0, y0), wasm_i16x8_extmul_high_i8x16(x0, y0));
    const v128_t b = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(x1, y1), wasm_i16x8_extmul_high_i8x16(x1, y1));
    return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(a), wasm_i32x4_extadd_pairwise_i16x8(b));
}

// The same for nibbles (0..15) times int8: four products fit an int16 sum (4 * 15 * 128 < 2^15).
inline v128_t dot_u4s8_block(v128_t lo, v128_t hi, v128_t y0, v128_t y1) {
    const v128_t a = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(lo, y0), wasm_i16x8_extmul_high_i8x16(lo, y0));
    const v128_t b = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(hi, y1), wasm_i16x8_extmul_high_i8x16(hi, y1));
    return wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_add(a, b));
}

inline int32_t hsum_i32x4(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) + wasm_i32x4_extract_lane(v, 2) +
           wasm_i32x4_extract_lane(v, 3);
}

// The four int32 totals of four vectors of partial sums, in order (exact: integers).
inline v128_t sum4(const v128_t p[4]) {
    // transpose-free: pairwise interleave, then add
    const v128_t a01 = wasm_i32x4_add(wasm_i32x4_shuffle(p[0], p[1], 0, 4, 2, 6), wasm_i32x4_shuffle(p[0], p[1], 1, 5, 3, 7));
    const v128_t a23 = wasm_i32x4_add(wasm_i32x4_shuffle(p[2], p[3], 0, 4, 2, 6), wasm_i32x4_shuffle(p[2], p[3], 1, 5, 3, 7));
    // a01 = [p0(0+1), p1(0+1), p0(2+3), p1(2+3)]
    return wasm_i32x4_add(wasm_i32x4_shuffle(a01, a23, 0, 1, 4, 5), wasm_i32x4_shuffle(a01, a23, 2, 3, 6, 7));
}

inline uint16_t load_u16(const void* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return h;
}

// Four fp16 values, one in the low 16 bits of each u32 lane, to floats:
// lmx::fp16_to_fp32's branch-free algorithm lane by lane, so bit-identical to it
// (every step is an exact integer op, an exact power-of-two scaling or an exact subtraction).
inline v128_t fp16x4_to_f32x4(v128_t h32) {
    const v128_t w = wasm_i32x4_shl(h32, 16);
    const v128_t sign = wasm_v128_and(w, wasm_u32x4_splat(0x80000000u));
    const v128_t two_w = wasm_i32x4_add(w, w);
    const v128_t normalized = wasm_f32x4_mul(wasm_i32x4_add(wasm_u32x4_shr(two_w, 4), wasm_u32x4_splat(0xE0u << 23)),
                                             wasm_f32x4_splat(fp32_from_bits(0x7800000u)));
    const v128_t denormalized = wasm_f32x4_sub(wasm_v128_or(wasm_u32x4_shr(two_w, 17), wasm_u32x4_splat(126u << 23)),
                                               wasm_f32x4_splat(0.5f));
    const v128_t is_denormal = wasm_u32x4_lt(two_w, wasm_u32x4_splat(1u << 27));
    return wasm_v128_or(sign, wasm_v128_bitselect(denormalized, normalized, is_denormal));
}

// Eight fp16 values at x as two f32x4 (lanes 0..3, 4..7).
inline void load_fp16x8(const uint16_t* x, v128_t& lo, v128_t& hi) {
    const v128_t h = wasm_v128_load(x);
    lo = fp16x4_to_f32x4(wasm_u32x4_extend_low_u16x8(h));
    hi = fp16x4_to_f32x4(wasm_u32x4_extend_high_u16x8(h));
}

inline v128_t load_fp16x4(const uint16_t* x) { return fp16x4_to_f32x4(wasm_u32x4_load16x4(x)); }

// Four fp16 fields, one per block, at a byte stride, as floats (exact conversions).
inline v128_t halves4(const void* first, size_t stride) {
    const auto* b = static_cast<const uint8_t*>(first);
    v128_t v = wasm_v128_load16_lane(b, wasm_i64x2_splat(0), 0);
    v = wasm_v128_load16_lane(b + stride, v, 1);
    v = wasm_v128_load16_lane(b + 2 * stride, v, 2);
    v = wasm_v128_load16_lane(b + 3 * stride, v, 3);
    return fp16x4_to_f32x4(wasm_u32x4_extend_low_u16x8(v));
}

// Two adjacent fp16 fields per block (Q4_1's d, m; Q8_1's d, s), four blocks at a byte
// stride: lo gets the first field of each block, hi the second.
inline void halves4x2(const void* first, size_t stride, v128_t& lo, v128_t& hi) {
    const auto* b = static_cast<const uint8_t*>(first);
    v128_t v = wasm_v128_load32_zero(b);
    v = wasm_v128_load32_lane(b + stride, v, 1);
    v = wasm_v128_load32_lane(b + 2 * stride, v, 2);
    v = wasm_v128_load32_lane(b + 3 * stride, v, 3);
    lo = fp16x4_to_f32x4(wasm_v128_and(v, wasm_u32x4_splat(0xFFFFu)));  // little-endian: the first field is low
    hi = fp16x4_to_f32x4(wasm_u32x4_shr(v, 16));
}

// The 32 nibbles of a Q4 block's 16 bytes: low nibbles (elements 0..15), high (16..31).
inline void unpack_nibbles(const uint8_t* qs, v128_t& lo, v128_t& hi) {
    const v128_t q = load128(qs);
    const v128_t m = wasm_i8x16_splat(0x0F);
    lo = wasm_v128_and(q, m);
    hi = wasm_u8x16_shr(q, 4);
}

}  // namespace lmx::kernels::wasm
