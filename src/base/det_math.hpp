#pragma once
// exp, sin and cos with the same bits on every platform (deterministic inference and the
// compressor's probability tables): only IEEE double +, -, *, / (correctly rounded
// everywhere) and exact conversions, no libm whose last bit differs between glibc, musl
// and the browser. Compiled with -ffp-contract=off so no multiply-add is ever fused.
// Accuracy: the double result is within 2^-50 relative of the true value, so the float
// result is the correctly rounded one except in rare near-tie cases.
namespace lmx {

float det_exp(float x);  // 0 below -104, +inf above 88.8, NaN for NaN

// det_exp's steps, for SIMD versions that must follow them exactly (kernels::exp_det):
// k = trunc(x log2e ± 0.5) (ties away from zero), r = (x - k ln2_hi) - k ln2_lo,
// p = Horner over kExpPoly in order starting from 1/13!, result p * 2^k rounded to float.
namespace det_exp_steps {
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;  // k * kLn2Hi is exact
constexpr double kFirst = 1.0 / 6227020800.0;  // 1/13!
constexpr double kPoly[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                            1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
                            1.0 / 6.0, 0.5, 1.0, 1.0};
constexpr float kMax = 88.8f, kMin = -104.0f;  // above: +inf; below: 0
}  // namespace det_exp_steps
float det_tanh(float x);  // ±1 beyond |x| = 20, NaN for NaN
float det_pow(float base, float e);  // base finite and > 0 (e.g. RoPE's freq_base^(-2/n_rot))
// sin and cos of x (|x| < 2^20, e.g. RoPE angles); larger |x| loses accuracy, never determinism.
void det_sincos(float x, float* s, float* c);

}  // namespace lmx
