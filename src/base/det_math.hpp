#pragma once
// exp, sin and cos with the same bits on every platform (deterministic inference and the
// compressor's probability tables): only IEEE double +, -, *, / (correctly rounded
// everywhere) and exact conversions, no libm whose last bit differs between glibc, musl
// and the browser. Compiled with -ffp-contract=off so no multiply-add is ever fused.
// Accuracy: the double result is within 2^-50 relative of the true value, so the float
// result is the correctly rounded one except in rare near-tie cases.
namespace lmx {

float det_exp(float x);  // 0 below -104, +inf above 88.8, NaN for NaN
float det_pow(float base, float e);  // base finite and > 0 (e.g. RoPE's freq_base^(-2/n_rot))
// sin and cos of x (|x| < 2^20, e.g. RoPE angles); larger |x| loses accuracy, never determinism.
void det_sincos(float x, float* s, float* c);

}  // namespace lmx
