// det_math against libm: within one ulp everywhere it is used, exact at the points
// where the result is representable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "base/det_math.hpp"

using namespace lmx;

namespace {

int64_t ulps(float a, float b) {
    int32_t ia, ib;
    std::memcpy(&ia, &a, 4);
    std::memcpy(&ib, &b, 4);
    if (ia < 0) ia = INT32_MIN - ia;
    if (ib < 0) ib = INT32_MIN - ib;
    return std::llabs(static_cast<int64_t>(ia) - ib);
}

TEST(DetMath, ExpWithinOneUlpOfLibm) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> x(-87.0f, 88.0f);
    for (int i = 0; i < 200000; i++) {
        const float v = x(rng);
        ASSERT_LE(ulps(det_exp(v), std::exp(v)), 1) << v;
    }
    for (float v : {-20.0f, -1e-3f, -1e-30f, 0.0f, 1e-7f, 0.5f, 1.0f, 10.0f})
        ASSERT_LE(ulps(det_exp(v), std::exp(v)), 1) << v;
    EXPECT_EQ(det_exp(0.0f), 1.0f);
    EXPECT_EQ(det_exp(-200.0f), 0.0f);
    EXPECT_TRUE(std::isinf(det_exp(100.0f)));
    EXPECT_TRUE(std::isnan(det_exp(NAN)));
    EXPECT_GT(det_exp(-100.0f), 0.0f);  // subnormal results are kept
}

// Against libm's double tanh rounded to float (float tanhf itself can be 2 ulps off): within
// one ulp away from 0; near 0, where GELU uses it as 1 + tanh u, an absolute error far
// below float's resolution at 1.
TEST(DetMath, TanhWithinOneUlpOfDoubleTanh) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> x(-12.0f, 12.0f);
    for (int i = 0; i < 200000; i++) {
        const float v = i % 2 ? x(rng) : x(rng) * 1e-3f;
        const float want = static_cast<float>(std::tanh(static_cast<double>(v)));
        if (std::fabs(v) >= 1e-3f) {
            ASSERT_LE(ulps(det_tanh(v), want), 1) << v;
        }
        ASSERT_LE(std::fabs(det_tanh(v) - want), 1e-9f + 1.2e-7f * std::fabs(want)) << v;
    }
    EXPECT_EQ(det_tanh(0.0f), 0.0f);
    EXPECT_EQ(det_tanh(30.0f), 1.0f);
    EXPECT_EQ(det_tanh(-30.0f), -1.0f);
    EXPECT_TRUE(std::isnan(det_tanh(NAN)));
}

TEST(DetMath, SinCosWithinOneUlpOfLibm) {
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> x(-70000.0f, 70000.0f);
    for (int i = 0; i < 200000; i++) {
        const float v = i % 2 ? x(rng) : x(rng) * 1e-4f;
        float s, c;
        det_sincos(v, &s, &c);
        // near a zero of sin/cos an ulp of the result is tiny: compare absolutely there
        const float es = std::sin(v), ec = std::cos(v);
        ASSERT_TRUE(ulps(s, es) <= 1 || std::fabs(s - es) < 1e-7f) << v << " sin " << s << " vs " << es;
        ASSERT_TRUE(ulps(c, ec) <= 1 || std::fabs(c - ec) < 1e-7f) << v << " cos " << c << " vs " << ec;
    }
    float s, c;
    det_sincos(0.0f, &s, &c);
    EXPECT_EQ(s, 0.0f);
    EXPECT_EQ(c, 1.0f);
}

TEST(DetMath, PowWithinOneUlpOfLibm) {
    for (float base : {10000.0f, 500000.0f, 1000000.0f, 2.0f, 0.5f})
        for (int n_rot : {16, 32, 64, 128, 256}) {
            const float e = -2.0f / static_cast<float>(n_rot);
            EXPECT_LE(ulps(det_pow(base, e), std::pow(base, e)), 1) << base << "^" << e;
        }
    EXPECT_EQ(det_pow(2.0f, 10.0f), 1024.0f);
}

}  // namespace
