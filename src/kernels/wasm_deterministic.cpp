// Deterministic WASM SIMD128 dot products, bit-identical to scalar_dot.cpp and
// scalar_attention.cpp (the same scheme as avx2_deterministic.cpp). Per block b the
// scalar computes t_b = (dx*dy) * sumi + m*s (Q4_1) or sumi * (dx*dy) (Q8_0), one IEEE
// rounding per operation, then sumf += t_b in block order. Here four blocks' integer sums
// come from SIMD (exact), their t_b from elementwise f32x4 multiplies and adds (the same
// roundings), and only the running sum stays sequential. WebAssembly has no fused
// multiply-add outside relaxed-simd, and the file is built with -ffp-contract=off anyway.
#include "kernels/attend_two_pass.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_wasm.hpp"
#include "kernels/wasm.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::wasm {

namespace {

float add_in_order(float sumf, v128_t t) {
    sumf += wasm_f32x4_extract_lane(t, 0);
    sumf += wasm_f32x4_extract_lane(t, 1);
    sumf += wasm_f32x4_extract_lane(t, 2);
    sumf += wasm_f32x4_extract_lane(t, 3);
    return sumf;
}

// The integer partial sums of one Q4_1 x Q8_1 block.
v128_t sums_q4_1(const block_q4_1& x, const block_q8_1& y) {
    v128_t lo, hi;
    unpack_nibbles(x.qs, lo, hi);
    return dot_u4s8_block(lo, hi, load128(y.qs), load128(y.qs + 16));
}

v128_t sums_q8_0(const block_q8_0& x, const block_q8_0& y) {
    return dot_s8_block(load128(x.qs), load128(x.qs + 16), load128(y.qs), load128(y.qs + 16));
}

}  // namespace

float vec_dot_q4_1_q8_1_exact(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q4_1*>(w);
    const auto* y = static_cast<const block_q8_1*>(a);
    const int64_t nb = n / QK8_1;
    float sumf = 0;
    int64_t ib = 0;
    for (; ib + 4 <= nb; ib += 4) {
        v128_t p[4];
        for (int k = 0; k < 4; k++) p[k] = sums_q4_1(x[ib + k], y[ib + k]);
        v128_t xd, xm, yd, ys;
        halves4x2(&x[ib].d, sizeof(block_q4_1), xd, xm);
        halves4x2(&y[ib].d, sizeof(block_q8_1), yd, ys);
        const v128_t dd = wasm_f32x4_mul(xd, yd);
        const v128_t ms = wasm_f32x4_mul(xm, ys);
        sumf = add_in_order(sumf, wasm_f32x4_add(wasm_f32x4_mul(dd, wasm_f32x4_convert_i32x4(sum4(p))), ms));
    }
    for (; ib < nb; ib++) {
        const int sumi = hsum_i32x4(sums_q4_1(x[ib], y[ib]));
        sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * static_cast<float>(sumi) +
                fp16_to_fp32(x[ib].m) * fp16_to_fp32(y[ib].s);
    }
    return sumf;
}

float vec_dot_q8_0_q8_0_exact(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    float sumf = 0;
    int64_t ib = 0;
    for (; ib + 4 <= nb; ib += 4) {
        v128_t p[4];
        for (int k = 0; k < 4; k++) p[k] = sums_q8_0(x[ib + k], y[ib + k]);
        const v128_t dd = wasm_f32x4_mul(halves4(&x[ib].d, sizeof(block_q8_0)), halves4(&y[ib].d, sizeof(block_q8_0)));
        sumf = add_in_order(sumf, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum4(p)), dd));
    }
    for (; ib < nb; ib++) {
        const int sumi = hsum_i32x4(sums_q8_0(x[ib], y[ib]));
        sumf += static_cast<float>(sumi) * (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d));
    }
    return sumf;
}

namespace {

// kernels::dot_f16_f32_lanes8: lane k sums the products i = k mod 8, here in two f32x4
// accumulators (lanes 0..3 and 4..7), then the tree ((0+4)+(2+6))+((1+5)+(3+7)), then the tail.
float dot_f16_f32_exact(int64_t n, const uint16_t* x, const float* y) {
    v128_t acc0 = wasm_f32x4_splat(0), acc1 = wasm_f32x4_splat(0);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t x0, x1;
        load_fp16x8(x + i, x0, x1);
        acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(x0, wasm_v128_load(y + i)));
        acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(x1, wasm_v128_load(y + i + 4)));
    }
    const v128_t s = wasm_f32x4_add(acc0, acc1);  // lanes: 0+4, 1+5, 2+6, 3+7
    float sum = (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 2)) +
                (wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 3));
    for (; i < n; i++) sum += fp16_to_fp32(x[i]) * y[i];
    return sum;
}

// Elementwise, so SIMD is exact as long as the multiply and add stay separate.
void axpy_f16_exact(int64_t n, float a, const uint16_t* x, float* y) {
    const v128_t va = wasm_f32x4_splat(a);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t xf = load_fp16x4(x + i);
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, xf)));
    }
    for (; i < n; i++) y[i] += a * fp16_to_fp32(x[i]);
}

}  // namespace

void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out) {
    attend_two_pass<dot_f16_f32_exact, axpy_f16_exact, kernels::exp_det>(group, hd, q, k, v, stride, n, scale, scores, out);
}

}  // namespace lmx::kernels::wasm
