// Each op against a naive double-precision reference written from the formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "op_test_util.hpp"
#include "tensor/dequantize.hpp"

using namespace lmx;
using namespace lmx::graph;
using namespace lmx::test;

static uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

TEST(Ops, RmsNormMatchesFormula) {
    const int64_t t = 3, d = 576;
    auto x = random_vec(static_cast<size_t>(t * d), 1), w = random_vec(static_cast<size_t>(d), 2);
    OneOp g(ops::rms_norm(1e-5f), {{DType::F32, {kTokens, d}}, {DType::F32, {d}}});
    auto y = g.run({f32(x, {t, d}), f32(w, {d})});
    for (int64_t r = 0; r < t; r++) {
        double ss = 0;
        for (int64_t i = 0; i < d; i++) ss += double(x[size_t(r * d + i)]) * x[size_t(r * d + i)];
        const double scale = 1.0 / std::sqrt(ss / d + 1e-5);
        for (int64_t i = 0; i < d; i++)
            EXPECT_NEAR(y[size_t(r * d + i)], x[size_t(r * d + i)] * scale * w[size_t(i)], 1e-5 * (1 + std::fabs(y[size_t(r * d + i)])));
    }
}

TEST(Ops, RopeMatchesFormulaInBothLayouts) {
    const int heads = 3, hd = 16, n_rot = 12;
    std::vector<int32_t> pos = {0, 1, 7, 63};
    const int64_t t = static_cast<int64_t>(pos.size()), width = heads * hd;
    auto x = random_vec(static_cast<size_t>(t * width), 3);
    for (auto layout : {ops::RopeLayout::adjacent_pairs, ops::RopeLayout::neox_halves}) {
        OneOp g(ops::rope({heads, hd, n_rot, 10000.0f, layout}), {{DType::F32, {kTokens, width}}, {DType::I32, {kTokens}}});
        auto y = g.run({f32(x, {t, width}), i32(pos)});
        for (int64_t ti = 0; ti < t; ti++)
            for (int h = 0; h < heads; h++) {
                const float* xh = x.data() + ti * width + h * hd;
                const float* yh = y.data() + ti * width + h * hd;
                for (int i = 0; i < n_rot / 2; i++) {
                    const double theta = pos[size_t(ti)] * std::pow(10000.0, -2.0 * i / n_rot);
                    const int a = layout == ops::RopeLayout::adjacent_pairs ? 2 * i : i;
                    const int b = layout == ops::RopeLayout::adjacent_pairs ? 2 * i + 1 : i + n_rot / 2;
                    EXPECT_NEAR(yh[a], xh[a] * std::cos(theta) - xh[b] * std::sin(theta), 1e-4);
                    EXPECT_NEAR(yh[b], xh[a] * std::sin(theta) + xh[b] * std::cos(theta), 1e-4);
                }
                for (int i = n_rot; i < hd; i++) EXPECT_EQ(yh[i], xh[i]);
            }
    }
}

TEST(Ops, MatMulF32AndQ8MatchDequantizedDot) {
    const int64_t rows = 5, k = 256, n = 37;
    auto x = random_vec(static_cast<size_t>(rows * k), 4);
    auto wf = random_vec(static_cast<size_t>(n * k), 5, 0.05f);
    auto bias = random_vec(static_cast<size_t>(n), 6);
    // q8_0 weights made by the scalar q8_0 quantizer (q8_0 is both an activation and a weight format)
    const auto& scalar = kernels::table(kernels::Isa::scalar);
    std::vector<uint8_t> wq(dtype_row_bytes(DType::Q8_0, k) * static_cast<size_t>(n));
    for (int64_t j = 0; j < n; j++) scalar.quantize[int(DType::Q8_0)](wf.data() + j * k, wq.data() + j * dtype_row_bytes(DType::Q8_0, k), k);
    for (DType wt : {DType::F32, DType::Q8_0}) {
        const void* wdata = wt == DType::F32 ? static_cast<const void*>(wf.data()) : wq.data();
        Graph g;
        ValueId xi = g.add_input("x", DType::F32, {kTokens, k});
        ValueId bi = g.add_input("b", DType::F32, {n});
        ValueId w = g.add_constant("w", wt, {n, k}, wdata);
        g.mark_output(g.add(ops::matmul(), {xi, w, bi}, "y"));
        ThreadPool pool(2);
        ExecContext ctx(pool, kernels::best_table());
        Executor ex(g);
        Tensor y = ex.run(ctx, {f32(x, {rows, k}), f32(bias, {n})}).at(0);
        ASSERT_EQ(y.dims, (Dims{rows, n}));
        std::vector<float> wrow(static_cast<size_t>(k));
        for (int64_t j = 0; j < n; j++) {
            dequantize_row(wt, static_cast<const uint8_t*>(wdata) + j * dtype_row_bytes(wt, k), wrow.data(), k);
            for (int64_t r = 0; r < rows; r++) {
                double ref = bias[size_t(j)], mag = 0;
                for (int64_t i = 0; i < k; i++) {
                    ref += double(wrow[size_t(i)]) * x[size_t(r * k + i)];
                    mag += std::fabs(double(wrow[size_t(i)]) * x[size_t(r * k + i)]);
                }
                // f32 weights: float summation only; q8_0: activations are quantized to 8 bits too
                const double tol = wt == DType::F32 ? 1e-5 * mag : 1e-2 * mag;
                EXPECT_NEAR(y.as<float>()[r * n + j], ref, tol) << dtype_name(wt) << " row " << j;
            }
        }
    }
}

// A matmul group (q, k, v with a bias on two of them) gives each output bit for bit what its
// weight's own packed matmul gives, at every row count the kernels group differently; in
// deterministic mode (no packed GEMM) what each weight's matmul over its rows gives.
TEST(Ops, MatMulGroupEqualsItsMatmulsBitForBit) {
    const int64_t k = 256, n[3] = {64, 32, 48};
    const auto& scalar = kernels::table(kernels::Isa::scalar);
    std::vector<std::vector<uint8_t>> wq(3);
    std::vector<std::vector<float>> bias(3);
    for (int m = 0; m < 3; m++) {
        auto wf = random_vec(static_cast<size_t>(n[m] * k), 30 + uint32_t(m), 0.05f);
        wq[size_t(m)].resize(dtype_row_bytes(DType::Q8_0, k) * static_cast<size_t>(n[m]));
        for (int64_t j = 0; j < n[m]; j++)
            scalar.quantize[int(DType::Q8_0)](wf.data() + j * k, wq[size_t(m)].data() + j * dtype_row_bytes(DType::Q8_0, k), k);
        bias[size_t(m)] = random_vec(static_cast<size_t>(n[m]), 40 + uint32_t(m));
    }
    const bool has_bias[3] = {true, false, true};
    for (bool deterministic : {false, true}) {
        const kernels::Table& table = deterministic ? kernels::deterministic_table(kernels::best_table().isa) : kernels::best_table();
        if (!deterministic && !table.packed[int(kernels::PackedLayout::q8)]) {
            std::printf("[ SKIPPED ] this CPU's kernels have no packed GEMM\n");
            continue;
        }
        for (int64_t rows : {1, 3, 6}) {
            auto x = random_vec(static_cast<size_t>(rows * k), 50 + uint32_t(rows));
            Graph g;
            ValueId xi = g.add_input("x", DType::F32, {kTokens, k});
            std::vector<ValueId> group_args = {xi};
            std::vector<std::shared_ptr<const kernels::PackedWeights>> packs;
            std::vector<ValueId> singles;
            for (int m = 0; m < 3; m++) {
                ValueId w = g.add_constant("w" + std::to_string(m), DType::Q8_0, {n[m], k}, wq[size_t(m)].data());
                ValueId b = g.add_constant("b" + std::to_string(m), DType::F32, {n[m]}, bias[size_t(m)].data());
                auto packed = std::make_shared<const kernels::PackedWeights>(DType::Q8_0, wq[size_t(m)].data(), n[m], k);
                packs.push_back(packed);
                group_args.push_back(w);
                if (has_bias[m]) group_args.push_back(b);
                singles.push_back(g.add(ops::matmul(packed), has_bias[m] ? std::vector<ValueId>{xi, w, b} : std::vector<ValueId>{xi, w},
                                        "single" + std::to_string(m)));
            }
            const std::vector<ValueId> grouped =
                g.add_node(ops::matmul_group(packs, {has_bias[0], has_bias[1], has_bias[2]}), group_args, "group");
            for (int m = 0; m < 3; m++) g.mark_output(singles[size_t(m)]), g.mark_output(grouped[size_t(m)]);
            ThreadPool pool(2);
            ExecContext ctx(pool, table);
            ctx.deterministic = deterministic;
            Executor ex(g);
            const std::vector<Tensor> ys = ex.run(ctx, {f32(x, {rows, k})});
            for (int m = 0; m < 3; m++) {
                const Tensor &one = ys[size_t(2 * m)], &in_group = ys[size_t(2 * m + 1)];
                ASSERT_EQ(in_group.dims, (Dims{rows, n[m]}));
                for (int64_t i = 0; i < rows * n[m]; i++)
                    ASSERT_EQ(bits(in_group.as<float>()[i]), bits(one.as<float>()[i]))
                        << "weight " << m << " rows " << rows << " element " << i << (deterministic ? " (deterministic)" : "");
            }
        }
    }
}

TEST(Ops, EmbedDequantizesRowsAndRejectsBadIds) {
    const int64_t vocab = 10, d = 64;
    auto tf = random_vec(static_cast<size_t>(vocab * d), 7);
    std::vector<int32_t> ids = {3, 0, 9, 3};
    OneOp g(ops::embed(), {{DType::F32, {vocab, d}}, {DType::I32, {kTokens}}});
    auto y = g.run({f32(tf, {vocab, d}), i32(ids)});
    for (size_t t = 0; t < ids.size(); t++)
        for (int64_t i = 0; i < d; i++) EXPECT_EQ(y[t * d + size_t(i)], tf[size_t(ids[t] * d + i)]);
    std::vector<int32_t> bad = {10};
    EXPECT_THROW(g.run({f32(tf, {vocab, d}), i32(bad)}), Error);
}

namespace {

// Naive causal softmax attention over fp16-rounded keys and values, for tokens of
// several sequences in one batch (each batch position holds a new key and value);
// window > 0 limits each token to the keys at positions pos-window+1..pos.
std::vector<double> naive_attention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                    const std::vector<int32_t>& pos, const std::vector<int32_t>& seq, int H, int Hkv, int D,
                                    float scale, int window) {
    const size_t t = pos.size(), qd = size_t(H * D), kvd = size_t(Hkv * D), group = size_t(H / Hkv);
    auto h16 = [](float x) { return double(fp16_to_fp32(fp32_to_fp16(x))); };
    std::vector<double> out(t * qd);
    for (size_t i = 0; i < t; i++)
        for (size_t h = 0; h < size_t(H); h++) {
            std::vector<double> w;
            std::vector<size_t> js;
            for (size_t j = 0; j < t; j++)  // same sequence, not later in it, inside the window
                if (seq[j] == seq[i] && pos[j] <= pos[i] && (window == 0 || pos[j] > pos[i] - window)) {
                    double s = 0;
                    for (size_t d = 0; d < size_t(D); d++) s += q[i * qd + h * size_t(D) + d] * h16(k[j * kvd + (h / group) * size_t(D) + d]);
                    w.push_back(s * scale);
                    js.push_back(j);
                }
            double mx = *std::max_element(w.begin(), w.end()), sum = 0;
            for (double& x : w) sum += (x = std::exp(x - mx));
            for (size_t d = 0; d < size_t(D); d++)
                for (size_t n = 0; n < js.size(); n++)
                    out[i * qd + h * size_t(D) + d] += w[n] / sum * h16(v[js[n] * kvd + (h / group) * size_t(D) + d]);
        }
    return out;
}

ops::OpPtr attention_op(int H, int Hkv, int D, float scale, int window) {
    ops::AttentionParams p{0, H, Hkv, D, scale};
    p.window = window;
    return ops::attention(p);
}

std::vector<std::pair<DType, Dims>> attention_inputs(int64_t qd, int64_t kvd) {
    return {{DType::F32, {kTokens, qd}}, {DType::F32, {kTokens, kvd}}, {DType::F32, {kTokens, kvd}}, {DType::I32, {kTokens}}, {DType::I32, {kTokens}}};
}

}  // namespace

// Two sequences interleaved in one batch, with a GQA head ratio of 3; heads of 8 (the
// kernels' scalar reference) and of 64 (the SIMD kernels' head sizes).
class AttentionHeadDim : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Ops, AttentionHeadDim, ::testing::Values(8, 64));
TEST_P(AttentionHeadDim, MixedSequencesMatchesNaive) {
    const int H = 6, Hkv = 2, D = GetParam();
    const int64_t qd = H * D, kvd = Hkv * D;
    std::vector<int32_t> pos = {0, 0, 1, 1, 2, 3}, seq = {0, 1, 0, 1, 0, 0};
    const int64_t t = static_cast<int64_t>(pos.size());
    auto q = random_vec(static_cast<size_t>(t * qd), 8), k = random_vec(static_cast<size_t>(t * kvd), 9), v = random_vec(static_cast<size_t>(t * kvd), 10);
    const float scale = 1.0f / std::sqrt(float(D));
    OneOp g(attention_op(H, Hkv, D, scale, 0), attention_inputs(qd, kvd));
    ops::KvCache kv(1, Hkv, D, 2, 16);
    auto y = g.run({f32(q, {t, qd}), f32(k, {t, kvd}), f32(v, {t, kvd}), i32(pos), i32(seq)}, 2, &kv);
    const std::vector<double> ref = naive_attention(q, k, v, pos, seq, H, Hkv, D, scale, 0);
    for (size_t i = 0; i < ref.size(); i++) EXPECT_NEAR(y[i], ref[i], 1e-5) << "output " << i;
    std::vector<int32_t> far = {16}, s0 = {0};
    auto q1 = random_vec(size_t(qd), 11), k1 = random_vec(size_t(kvd), 12);
    EXPECT_THROW(g.run({f32(q1, {1, qd}), f32(k1, {1, kvd}), f32(k1, {1, kvd}), i32(far), i32(s0)}, 1, &kv), Error);
}

// A sliding window of 3 over two sequences of 7 and 2 tokens: the late tokens of the
// long one no longer see its first positions; the short one never reaches the window.
// Then decoding one more token of the long sequence sees only the cached positions
// 5..7, and differs from what it sees without a window.
TEST(Ops, AttentionSlidingWindowMatchesNaive) {
    const int H = 4, Hkv = 2, D = 8, W = 3;
    const int64_t qd = H * D, kvd = Hkv * D;
    std::vector<int32_t> pos = {0, 1, 0, 2, 3, 1, 4, 5, 6}, seq = {0, 0, 1, 0, 0, 1, 0, 0, 0};
    const int64_t t = static_cast<int64_t>(pos.size());
    auto q = random_vec(static_cast<size_t>(t * qd), 20), k = random_vec(static_cast<size_t>(t * kvd), 21), v = random_vec(static_cast<size_t>(t * kvd), 22);
    const float scale = 1.0f / std::sqrt(float(D));
    OneOp g(attention_op(H, Hkv, D, scale, W), attention_inputs(qd, kvd));
    ops::KvCache kv(1, Hkv, D, 2, 16);
    auto y = g.run({f32(q, {t, qd}), f32(k, {t, kvd}), f32(v, {t, kvd}), i32(pos), i32(seq)}, 2, &kv);
    const std::vector<double> ref = naive_attention(q, k, v, pos, seq, H, Hkv, D, scale, W);
    for (size_t i = 0; i < ref.size(); i++) EXPECT_NEAR(y[i], ref[i], 1e-5) << "output " << i;

    // one more token at position 7 of sequence 0, attending to the cache
    std::vector<int32_t> p7 = {7}, s0 = {0};
    auto q7 = random_vec(size_t(qd), 23), k7 = random_vec(size_t(kvd), 24), v7 = random_vec(size_t(kvd), 25);
    auto y7 = g.run({f32(q7, {1, qd}), f32(k7, {1, kvd}), f32(v7, {1, kvd}), i32(p7), i32(s0)}, 2, &kv);
    std::vector<float> qa = q, ka = k, va = v;
    qa.insert(qa.end(), q7.begin(), q7.end());
    ka.insert(ka.end(), k7.begin(), k7.end());
    va.insert(va.end(), v7.begin(), v7.end());
    std::vector<int32_t> pa = pos, sa = seq;
    pa.push_back(7);
    sa.push_back(0);
    const std::vector<double> ref7 = naive_attention(qa, ka, va, pa, sa, H, Hkv, D, scale, W);
    const std::vector<double> unwindowed = naive_attention(qa, ka, va, pa, sa, H, Hkv, D, scale, 0);
    double moved = 0;
    for (size_t i = 0; i < size_t(qd); i++) {
        EXPECT_NEAR(y7[i], ref7[size_t(t * qd) + i], 1e-5) << "output " << i;
        moved = std::max(moved, std::fabs(unwindowed[size_t(t * qd) + i] - ref7[size_t(t * qd) + i]));
    }
    EXPECT_GT(moved, 0.05) << "the window must change what the last token sees";
}

TEST(Ops, GatherRowsPicksRequestedRows) {
    auto x = random_vec(12, 13);
    std::vector<int32_t> rows = {2, 0};
    OneOp g(ops::gather_rows(), {{DType::F32, {kTokens, 4}}, {DType::I32, {kOutputs}}});
    auto y = g.run({f32(x, {3, 4}), i32(rows)});
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(y[size_t(i)], x[size_t(8 + i)]);
        EXPECT_EQ(y[size_t(4 + i)], x[size_t(i)]);
    }
}
