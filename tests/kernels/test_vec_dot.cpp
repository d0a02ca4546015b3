// vec_dot: the scalar kernels against a double-precision dot of the dequantized rows
// (tying them to the golden-checked dequantizer), and every ISA against scalar.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kernels/kernels.hpp"
#include "random_rows.hpp"
#include "tensor/dequantize.hpp"

using namespace lmx;
using namespace lmx::kernels;

namespace {

constexpr DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                  DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                                  DType::Q4_K, DType::Q5_K, DType::Q6_K};

// Row lengths in blocks: 1..3 and 5, 7 exercise the SIMD tails (the AVX-512 loops take 4
// blocks at a time), 18 and 48 are SmolLM2's 576 and 1536.
std::vector<int64_t> lengths(DType w) {
    if (!dtype_info(w).quantized) return {1, 7, 31, 32, 100, 576, 1536};
    if (dtype_info(w).block_elems == QK_K) return {256, 512, 768, 1536, 2560};
    return {32, 64, 96, 160, 224, 576, 1536};
}

struct Case {
    std::vector<uint8_t> w, a;
    std::vector<float> w_deq, a_deq;
    double abs_dot = 0;      // sum |w_i a_i|: float reordering error is relative to this
    double fp16_s_term = 0;  // sum |m * s| over blocks: Q8_1's s is d * sum(q) rounded to fp16
};

Case make_case(DType wt, int64_t n, std::mt19937& rng) {
    const Table& scalar = table(Isa::scalar);
    const DType at = scalar.weight[static_cast<int>(wt)].act_type;
    Case c;
    c.w = test::random_weight_row(wt, n, rng);
    const std::vector<float> x = test::random_floats(n, rng);
    c.a.resize(dtype_row_bytes(at, n));
    scalar.quantize[static_cast<int>(at)](x.data(), c.a.data(), n);
    c.w_deq.resize(static_cast<size_t>(n));
    c.a_deq.resize(static_cast<size_t>(n));
    dequantize_row(wt, c.w.data(), c.w_deq.data(), n);
    dequantize_row(at, c.a.data(), c.a_deq.data(), n);
    for (int64_t i = 0; i < n; i++) c.abs_dot += std::fabs(double{c.w_deq[i]} * c.a_deq[i]);
    if (at == DType::Q8_1) {
        const auto* y = reinterpret_cast<const block_q8_1*>(c.a.data());
        for (int64_t b = 0; b < n / QK8_1; b++) {
            const size_t m_off = (wt == DType::Q4_1 ? sizeof(block_q4_1) : sizeof(block_q5_1)) * b + 2;
            uint16_t m;
            std::memcpy(&m, c.w.data() + m_off, 2);
            c.fp16_s_term += std::fabs(double{fp16_to_fp32(m)} * fp16_to_fp32(y[b].s));
        }
    }
    return c;
}

float run(const Table& t, DType wt, int64_t n, const Case& c) {
    return t.weight[static_cast<int>(wt)].vec_dot(n, c.w.data(), c.a.data());
}

std::string label(DType wt, int64_t n) { return std::string(dtype_name(wt)) + " n=" + std::to_string(n); }

}  // namespace

// Bound: 1e-5 * sum|w_i a_i| for float rounding and summation order (the sums are of a few
// hundred float terms at most), plus 2^-11 * sum|m s| where Q8_1's fp16 s stands in for
// d * sum(q) exactly as in ggml.
TEST(VecDotScalar, MatchesDequantizedDot) {
    std::mt19937 rng(7);
    for (DType wt : kWeightTypes) {
        for (int64_t n : lengths(wt)) {
            const Case c = make_case(wt, n, rng);
            double want = 0;
            for (int64_t i = 0; i < n; i++) want += double{c.w_deq[i]} * c.a_deq[i];
            const double tol = 1e-5 * c.abs_dot + std::ldexp(c.fp16_s_term, -11) + 1e-30;
            EXPECT_NEAR(run(table(Isa::scalar), wt, n, c), want, tol) << label(wt, n);
        }
    }
}

TEST(VecDotScalar, ActivationTypesFollowGgml) {
    const Table& t = table(Isa::scalar);
    auto act = [&](DType w) { return t.weight[static_cast<int>(w)].act_type; };
    EXPECT_EQ(act(DType::Q4_0), DType::Q8_0);
    EXPECT_EQ(act(DType::Q4_1), DType::Q8_1);
    EXPECT_EQ(act(DType::Q5_0), DType::Q8_0);
    EXPECT_EQ(act(DType::Q5_1), DType::Q8_1);
    EXPECT_EQ(act(DType::Q8_0), DType::Q8_0);
    for (DType k : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) EXPECT_EQ(act(k), DType::Q8_K);
    EXPECT_EQ(act(DType::F16), DType::F16);
    EXPECT_EQ(act(DType::F32), DType::F32);
    EXPECT_EQ(t.weight[static_cast<int>(DType::I32)].vec_dot, nullptr);
}

class VecDotIsa : public testing::TestWithParam<Isa> {};

// Same bound as above without the fp16 term: both sides use the same s.
TEST_P(VecDotIsa, MatchesScalar) {
    const Isa isa = GetParam();
    if (!test::available(isa)) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
    std::mt19937 rng(11);
    for (DType wt : kWeightTypes) {
        ASSERT_EQ(table(isa).weight[static_cast<int>(wt)].act_type, table(Isa::scalar).weight[static_cast<int>(wt)].act_type);
        for (int64_t n : lengths(wt)) {
            for (int rep = 0; rep < 3; rep++) {
                const Case c = make_case(wt, n, rng);
                EXPECT_NEAR(run(table(isa), wt, n, c), run(table(Isa::scalar), wt, n, c), 1e-5 * c.abs_dot + 1e-30)
                    << isa_name(isa) << " " << label(wt, n);
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Isas, VecDotIsa, testing::Values(Isa::avx2, Isa::avx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// vec_dot_rows must give exactly what vec_dot gives row by row: batching must never
// change a result (the runtime's batch test relies on it).
TEST(VecDotRows, BitIdenticalToVecDotOnEveryIsa) {
    std::mt19937 rng(11);
    int checked = 0;
    for (kernels::Isa isa : kernels::available_isas()) {
        const kernels::Table& t = kernels::table(isa);
        for (int w = 0; w < kernels::kMaxDType; w++) {
            const kernels::WeightKernels& wk = t.weight[w];
            if (!wk.vec_dot_rows) continue;
            const DType wt = static_cast<DType>(w);
            for (int64_t n : {dtype_info(wt).block_elems * 4, int64_t{576}, int64_t{1536}, dtype_info(wt).block_elems * 7}) {
                if (n % dtype_info(wt).block_elems != 0) continue;  // 576 is no whole number of 256-element K blocks
                auto wrow = test::random_weight_row(wt, n, rng);
                std::vector<std::vector<uint8_t>> acts;
                const void* a[kernels::kMaxDotRows];
                for (int r = 0; r < kernels::kMaxDotRows; r++) {
                    auto x = test::random_floats(n, rng);
                    acts.emplace_back(dtype_row_bytes(wk.act_type, n));
                    t.quantize[static_cast<int>(wk.act_type)](x.data(), acts.back().data(), n);
                    a[r] = acts.back().data();
                }
                for (int nr = 1; nr <= kernels::kMaxDotRows; nr++) {
                    float out[kernels::kMaxDotRows];
                    wk.vec_dot_rows(n, wrow.data(), a, nr, out);
                    for (int r = 0; r < nr; r++)
                        EXPECT_EQ(out[r], wk.vec_dot(n, wrow.data(), a[r])) << kernels::isa_name(isa) << " " << dtype_name(wt) << " n=" << n;
                }
                checked++;
            }
        }
    }
    if (checked == 0) GTEST_SKIP() << "SKIPPED: no ISA on this CPU has a multi-row kernel";
}
