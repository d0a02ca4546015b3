#include "base/det_math.hpp"

#include <cstdint>
#include <cstring>
#include <limits>

namespace lmx {

// Round to nearest integer, ties away from zero, with plain arithmetic (|v| < 2^31).
static int64_t round_to_int(double v) { return static_cast<int64_t>(v < 0 ? v - 0.5 : v + 0.5); }

// 2^k for -1022 <= k <= 1023, built from the exponent bits.
static double pow2(int64_t k) {
    const uint64_t bits = static_cast<uint64_t>(k + 1023) << 52;
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

using det_exp_steps::kLn2Hi, det_exp_steps::kLn2Lo;

// exp of -104 <= xd <= 89 in double.
static double exp_d(double xd) {
    // x = k ln2 + r with |r| <= ln2/2; ln2 split so k * kLn2Hi is exact (k has <= 8 bits)
    const int64_t k = round_to_int(xd * det_exp_steps::kLog2e);
    const double r = (xd - static_cast<double>(k) * kLn2Hi) - static_cast<double>(k) * kLn2Lo;
    // Taylor series to r^13/13!: the remainder is < 2^-56 for |r| <= 0.35
    double p = det_exp_steps::kFirst;
    for (double c : det_exp_steps::kPoly) p = p * r + c;
    return p * pow2(k);
}

float det_exp(float x) {
    if (x != x) return x;
    if (x > det_exp_steps::kMax) return std::numeric_limits<float>::infinity();
    if (x < det_exp_steps::kMin) return 0.0f;
    return static_cast<float>(exp_d(x));
}

float det_tanh(float x) {
    if (x != x) return x;
    if (x > 20.0f) return 1.0f;
    if (x < -20.0f) return -1.0f;
    const double e = exp_d(2.0 * static_cast<double>(x));  // (e^2x - 1) / (e^2x + 1), no cancellation that matters in double
    return static_cast<float>((e - 1.0) / (e + 1.0));
}

// ln x = e ln2 + 2 atanh(t), x = m 2^e with m in [sqrt(1/2), sqrt(2)), t = (m-1)/(m+1), |t| < 0.172.
static double log_d(double x) {
    uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    int64_t e = static_cast<int64_t>((bits >> 52) & 0x7FF) - 1023;
    bits = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1023} << 52);
    double m;
    std::memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) m *= 0.5, e += 1;
    const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
    double p = 1.0 / 23.0;  // atanh(t)/t = sum t^2i/(2i+1); the remainder is < 2^-60
    for (int i = 10; i >= 0; i--) p = p * t2 + 1.0 / (2 * i + 1);
    const double ed = static_cast<double>(e);
    return ed * kLn2Hi + (ed * kLn2Lo + 2.0 * t * p);
}

float det_pow(float base, float e) {
    const double y = static_cast<double>(e) * log_d(base);
    if (y > 89.0) return std::numeric_limits<float>::infinity();
    if (y < -104.0) return 0.0f;
    return static_cast<float>(exp_d(y));
}

// sin and cos of |r| <= pi/4 by their Taylor series (remainders < 2^-57).
static double sin_poly(double r) {
    const double r2 = r * r;
    double p = -1.0 / 1307674368000.0;  // -1/15!
    constexpr double kCoef[] = {1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0,
                                1.0 / 120.0, -1.0 / 6.0, 1.0};
    for (double c : kCoef) p = p * r2 + c;
    return p * r;
}

static double cos_poly(double r) {
    const double r2 = r * r;
    double p = 1.0 / 20922789888000.0;  // 1/16!
    constexpr double kCoef[] = {-1.0 / 87178291200.0, 1.0 / 479001600.0, -1.0 / 3628800.0, 1.0 / 40320.0,
                                -1.0 / 720.0, 1.0 / 24.0, -0.5, 1.0};
    for (double c : kCoef) p = p * r2 + c;
    return p;
}

void det_sincos(float x, float* s, float* c) {
    // x = k pi/2 + r; pi/2 split in three (fdlibm's 33 + 33 + 53 bits), so k * the first two is exact for |k| < 2^20
    constexpr double kTwoOverPi = 0.63661977236758134308, kPio2Hi = 1.57079632673412561417e+00,
                     kPio2Mid = 6.07710050630396597660e-11, kPio2Lo = 2.02226624879595063154e-21;
    const double xd = x;
    const int64_t k = round_to_int(xd * kTwoOverPi);
    const double kd = static_cast<double>(k);
    const double r = ((xd - kd * kPio2Hi) - kd * kPio2Mid) - kd * kPio2Lo;
    const double sr = sin_poly(r), cr = cos_poly(r);
    switch (k & 3) {
        case 0: *s = static_cast<float>(sr), *c = static_cast<float>(cr); break;
        case 1: *s = static_cast<float>(cr), *c = static_cast<float>(-sr); break;
        case 2: *s = static_cast<float>(-sr), *c = static_cast<float>(-cr); break;
        default: *s = static_cast<float>(-cr), *c = static_cast<float>(sr); break;
    }
}

}  // namespace lmx
