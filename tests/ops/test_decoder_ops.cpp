// The ops the qwen2 and gemma3 decoders added, against references written from the
// formula: per-head RMSNorm (QK-norm), scaling, and GeGLU with ggml's fp16 GELU.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "op_test_util.hpp"

using namespace lmx;
using namespace lmx::graph;
using namespace lmx::test;

TEST(DecoderOps, HeadRmsNormNormalizesEachHeadOnItsOwn) {
    const int64_t t = 3, heads = 4, d = 64;
    auto x = random_vec(static_cast<size_t>(t * heads * d), 30), w = random_vec(static_cast<size_t>(d), 31);
    for (int64_t i = 0; i < d; i++) x[size_t(2 * d + i)] *= 50;  // one loud head must not scale the others
    OneOp g(ops::head_rms_norm(1e-6f, int(heads)), {{DType::F32, {kTokens, heads * d}}, {DType::F32, {d}}});
    auto y = g.run({f32(x, {t, heads * d}), f32(w, {d})});
    for (int64_t r = 0; r < t * heads; r++) {
        double ss = 0;
        for (int64_t i = 0; i < d; i++) ss += double(x[size_t(r * d + i)]) * x[size_t(r * d + i)];
        const double scale = 1.0 / std::sqrt(ss / d + 1e-6);
        for (int64_t i = 0; i < d; i++)
            EXPECT_NEAR(y[size_t(r * d + i)], x[size_t(r * d + i)] * scale * w[size_t(i)], 1e-5 * (1 + std::fabs(y[size_t(r * d + i)])))
                << "row " << r / heads << " head " << r % heads;
    }
    // the weight is one head wide: a row-wide weight is a shape error
    EXPECT_THROW(OneOp(ops::head_rms_norm(1e-6f, int(heads)), {{DType::F32, {kTokens, heads * d}}, {DType::F32, {heads * d}}}), Error);
}

TEST(DecoderOps, ScaleMultipliesEveryElement) {
    auto x = random_vec(1000, 32);
    OneOp g(ops::scale(25.298221f), {{DType::F32, {kTokens, 100}}});
    auto y = g.run({f32(x, {10, 100})});
    for (size_t i = 0; i < x.size(); i++) EXPECT_EQ(y[i], x[i] * 25.298221f);
}

// gelu_ggml is GELU's tanh approximation evaluated at the fp16-rounded input and
// rounded to fp16, as ggml's CPU backend reads it from its fp16 table: within fp16
// resolution of the exact formula, constant over each fp16 input bucket, and cut
// to 0 / x beyond ±10.
TEST(DecoderOps, GeluMatchesTanhFormulaAtFp16Resolution) {
    auto exact = [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * x * (1 + 0.044715 * x * x))); };
    for (uint32_t bits = 0; bits < 0x10000; bits++) {
        const float h = fp16_to_fp32(static_cast<uint16_t>(bits));
        if (!std::isfinite(h) || std::fabs(h) >= 10.0f) continue;
        const double ref = exact(h);
        for (bool det : {false, true}) {  // deterministic mode: det_tanh instead of libm's tanh
            const float got = ops::gelu_ggml(h, det);
            // the fp16 result rounding (half an fp16 ulp: 2^-11 relative, 2^-25 among
            // subnormals), plus float's cancellation in 1 + tanh(..) for x << 0 (|x| * 2^-23)
            EXPECT_NEAR(got, ref, std::fabs(ref) / 2048 + 0x1p-25 + std::fabs(h) * 1.2e-7) << "x = " << h;
            EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(got)), got) << "result not an fp16 value at x = " << h;
            const float nudged = std::nextafter(h, 0.0f);  // rounds to the same fp16 input
            if (fp32_to_fp16(nudged) == bits) {
                EXPECT_EQ(ops::gelu_ggml(nudged, det), got) << "x = " << h;
            }
        }
    }
    EXPECT_EQ(ops::gelu_ggml(-10.0f), 0.0f);
    EXPECT_EQ(ops::gelu_ggml(-300.0f), 0.0f);
    EXPECT_EQ(ops::gelu_ggml(10.0f), 10.0f);
    EXPECT_EQ(ops::gelu_ggml(123.456f), 123.456f);
}

TEST(DecoderOps, GegluIsGeluOfGateTimesUp) {
    auto gate = random_vec(4096, 33, 3.0f), up = random_vec(4096, 34);
    gate[0] = -12.0f;
    gate[1] = 11.0f;
    OneOp g(ops::geglu(), {{DType::F32, {kTokens, 1024}}, {DType::F32, {kTokens, 1024}}});
    auto y = g.run({f32(gate, {4, 1024}), f32(up, {4, 1024})});
    for (size_t i = 0; i < y.size(); i++) EXPECT_EQ(y[i], ops::gelu_ggml(gate[i]) * up[i]) << i;
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_EQ(y[1], 11.0f * up[1]);
}
