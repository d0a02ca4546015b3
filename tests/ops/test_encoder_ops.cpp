// Encoder ops against straightforward double-precision formulas: layer_norm, the erf
// GELU, bidirectional attention over back-to-back sequences, pooling, L2 normalize.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.hpp"
#include "op_test_util.hpp"

using namespace lmx;
using test::f32;
using test::i32;
using test::OneOp;
using test::random_vec;

TEST(EncoderOps, LayerNormMatchesTheFormula) {
    const int64_t rows = 5, d = 48;
    auto x = random_vec(rows * d, 1, 3.0f), w = random_vec(d, 2), b = random_vec(d, 3);
    OneOp op(ops::layer_norm(1e-12f), {{DType::F32, {graph::kTokens, d}}, {DType::F32, {d}}, {DType::F32, {d}}});
    const auto y = op.run({f32(x, {rows, d}), f32(w, {d}), f32(b, {d})});
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < d; i++) mean += x[r * d + i] / double(d);
        for (int64_t i = 0; i < d; i++) var += (x[r * d + i] - mean) * (x[r * d + i] - mean) / double(d);
        for (int64_t i = 0; i < d; i++)
            EXPECT_NEAR(y[r * d + i], (x[r * d + i] - mean) / std::sqrt(var + 1e-12) * w[i] + b[i], 1e-5);
    }
}

TEST(EncoderOps, GeluIsTheErfForm) {
    std::vector<float> x = {-3.0f, -1.0f, 0.0f, 0.5f, 1.0f, 4.0f};
    OneOp op(ops::gelu(), {{DType::F32, {graph::kTokens}}});
    const auto y = op.run({f32(x, {6})});
    EXPECT_NEAR(y[1], -0.15865525393145707, 1e-7);
    EXPECT_EQ(y[2], 0.0f);
    EXPECT_NEAR(y[4], 0.8413447460685429, 1e-7);
    for (size_t i = 0; i < x.size(); i++) EXPECT_NEAR(y[i], 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0))), 1e-6);
}

// Attention of one sequence, computed the plain way in double.
static std::vector<double> attend(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                  int64_t lo, int64_t hi, int heads, int hd, float scale) {
    const int64_t d = int64_t(heads) * hd;
    std::vector<double> y(size_t((hi - lo) * d));
    for (int64_t t = lo; t < hi; t++)
        for (int h = 0; h < heads; h++) {
            std::vector<double> s;
            double mx = -1e300, sum = 0;
            for (int64_t j = lo; j < hi; j++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) dot += double(q[t * d + h * hd + i]) * k[j * d + h * hd + i];
                s.push_back(dot * scale);
                mx = std::max(mx, s.back());
            }
            for (double& e : s) sum += e = std::exp(e - mx);
            for (int64_t j = lo; j < hi; j++)
                for (int i = 0; i < hd; i++) y[size_t((t - lo) * d + h * hd + i)] += s[size_t(j - lo)] / sum * v[j * d + h * hd + i];
        }
    return y;
}

TEST(EncoderOps, AttentionSeesOnlyItsOwnSequenceInBothDirections) {
    const int heads = 3, hd = 8;
    const int64_t d = heads * hd, n = 11;
    auto q = random_vec(n * d, 4), k = random_vec(n * d, 5), v = random_vec(n * d, 6);
    std::vector<int32_t> starts = {0, 4, 5};  // lengths 4, 1, 6
    const float scale = 1.0f / std::sqrt(float(hd));
    OneOp op(ops::encoder_attention({heads, hd, scale}),
             {{DType::F32, {graph::kTokens, d}}, {DType::F32, {graph::kTokens, d}}, {DType::F32, {graph::kTokens, d}},
              {DType::I32, {graph::kOutputs}}});
    const auto y = op.run({f32(q, {n, d}), f32(k, {n, d}), f32(v, {n, d}), i32(starts)});
    const int64_t bounds[] = {0, 4, 5, 11};
    for (int s = 0; s < 3; s++) {
        const auto want = attend(q, k, v, bounds[s], bounds[s + 1], heads, hd, scale);
        for (size_t i = 0; i < want.size(); i++) EXPECT_NEAR(y[size_t(bounds[s] * d) + i], want[i], 1e-5) << "seq " << s;
    }
    std::vector<int32_t> bad = {0, 7, 7};
    EXPECT_THROW(op.run({f32(q, {n, d}), f32(k, {n, d}), f32(v, {n, d}), i32(bad)}), Error);
    std::vector<int32_t> not_zero = {1};
    EXPECT_THROW(op.run({f32(q, {n, d}), f32(k, {n, d}), f32(v, {n, d}), i32(not_zero)}), Error);
}

TEST(EncoderOps, PoolingMeanClsAndLastPerSequence) {
    const int64_t d = 4, n = 5;
    std::vector<float> x(n * d);
    for (size_t i = 0; i < x.size(); i++) x[i] = float(i);
    std::vector<int32_t> starts = {0, 3};  // rows 0..2 and 3..4
    auto run = [&](ops::Pooling p) {
        OneOp op(ops::pool(p), {{DType::F32, {graph::kTokens, d}}, {DType::I32, {graph::kOutputs}}});
        return op.run({f32(x, {n, d}), i32(starts)});
    };
    EXPECT_EQ(run(ops::Pooling::mean), (std::vector<float>{4, 5, 6, 7, 14, 15, 16, 17}));
    EXPECT_EQ(run(ops::Pooling::cls), (std::vector<float>{0, 1, 2, 3, 12, 13, 14, 15}));
    EXPECT_EQ(run(ops::Pooling::last), (std::vector<float>{8, 9, 10, 11, 16, 17, 18, 19}));
}

TEST(EncoderOps, L2NormalizeKeepsZeroRowsZero) {
    std::vector<float> x = {3, 4, 0, 0};
    OneOp op(ops::l2_normalize(), {{DType::F32, {graph::kTokens, 2}}});
    EXPECT_EQ(op.run({f32(x, {2, 2})}), (std::vector<float>{0.6f, 0.8f, 0, 0}));
}
