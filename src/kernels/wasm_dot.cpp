// Fast-path WASM SIMD128 dot products of the two weight types the default models use.
// Integer sums per block as in the scalar reference; the float accumulation runs in four
// lanes (four blocks at a time), so results differ from scalar in the last bits only.
#include "kernels/simd_wasm.hpp"
#include "kernels/wasm.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::wasm {

namespace {

float hsum_f32x4(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
           (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}

}  // namespace

float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_1*>(w);
    const auto* y = static_cast<const block_q8_1*>(a);
    const int64_t nb = n / QK8_1;
    v128_t acc = wasm_f32x4_splat(0);
    int64_t ib = 0;
    for (; ib + 4 <= nb; ib += 4) {
        v128_t p[4];
        for (int k = 0; k < 4; k++) {
            v128_t lo, hi;
            unpack_nibbles(x[ib + k].qs, lo, hi);
            p[k] = dot_u4s8_block(lo, hi, load128(y[ib + k].qs), load128(y[ib + k].qs + 16));
        }
        v128_t xd, xm, yd, ys;
        halves4x2(&x[ib].d, sizeof(block_q4_1), xd, xm);
        halves4x2(&y[ib].d, sizeof(block_q8_1), yd, ys);
        const v128_t dd = wasm_f32x4_mul(xd, yd);
        const v128_t ms = wasm_f32x4_mul(xm, ys);
        acc = wasm_f32x4_add(acc, wasm_f32x4_add(wasm_f32x4_mul(dd, wasm_f32x4_convert_i32x4(sum4(p))), ms));
    }
    float sumf = hsum_f32x4(acc);
    for (; ib < nb; ib++) {
        v128_t lo, hi;
        unpack_nibbles(x[ib].qs, lo, hi);
        const int sumi = hsum_i32x4(dot_u4s8_block(lo, hi, load128(y[ib].qs), load128(y[ib].qs + 16)));
        sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * static_cast<float>(sumi) +
                fp16_to_fp32(x[ib].m) * fp16_to_fp32(y[ib].s);
    }
    return sumf;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    v128_t acc = wasm_f32x4_splat(0);
    int64_t ib = 0;
    for (; ib + 4 <= nb; ib += 4) {
        v128_t p[4];
        for (int k = 0; k < 4; k++)
            p[k] = dot_s8_block(load128(x[ib + k].qs), load128(x[ib + k].qs + 16), load128(y[ib + k].qs), load128(y[ib + k].qs + 16));
        const v128_t dd = wasm_f32x4_mul(halves4(&x[ib].d, sizeof(block_q8_0)), halves4(&y[ib].d, sizeof(block_q8_0)));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum4(p)), dd));
    }
    float sumf = hsum_f32x4(acc);
    for (; ib < nb; ib++) {
        const int sumi = hsum_i32x4(dot_s8_block(load128(x[ib].qs), load128(x[ib].qs + 16), load128(y[ib].qs), load128(y[ib].qs + 16)));
        sumf += static_cast<float>(sumi) * (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d));
    }
    return sumf;
}

}  // namespace lmx::kernels::wasm
