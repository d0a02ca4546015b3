// The ONNX matrix product kernels: every ISA against the scalar reference (float sums in
// another order: within 1e-5 of the sum of absolute products), and the deterministic
// tables bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/kernels.hpp"
#include "random_rows.hpp"

using namespace lmx;
using namespace lmx::kernels;

namespace {

struct MatmulCase {
    int64_t m, k, n, c0, c1;
};

// Row counts around the 4-row groups, k around the 256-row blocks (and 0), n around the
// 8/16-lane vectors and 32/64-column tiles; SmolLM2's 576 × 1536 and a column range.
constexpr MatmulCase kMatmulCases[] = {
    {1, 1, 1, 0, 1},       {1, 7, 5, 0, 5},       {2, 3, 17, 0, 17},     {3, 300, 33, 0, 33},   {4, 257, 100, 0, 100},
    {5, 64, 70, 3, 69},    {9, 513, 129, 0, 129}, {1, 576, 1536, 0, 1536}, {6, 576, 1536, 512, 1024}, {2, 0, 9, 0, 9},
};

struct U4Case {
    int64_t k, block_size;
    bool zp;
};

// Partial last blocks (k not a multiple of the block), chunk tails of 16 and 48 weights,
// SmolLM2's widths.
constexpr U4Case kU4Cases[] = {{16, 16, false}, {40, 16, true},  {48, 32, true},   {100, 64, false}, {576, 32, true},
                               {576, 128, false}, {1536, 64, true}, {1000, 128, true}, {4096, 32, false}};

// kMaxDotRows weight rows (each row's bytes, scales and zero points one after another)
// and as many activation rows.
struct U4Rows {
    std::vector<uint8_t> q, zp;
    std::vector<float> scales, offsets;  // offsets: u4_offsets of the rows
    std::vector<std::vector<float>> a;
    std::vector<const float*> rows;
    double abs_dot[kMaxDotRows][kMaxDotRows] = {};  // [activation row][weight row]: sum |w_i a_i|
    int64_t row_bytes = 0, blocks = 0, zp_bytes = 0;

    U4Weights weights(bool with_offsets = false) const {
        return {q.data(), scales.data(), zp.empty() ? nullptr : zp.data(), row_bytes, blocks, zp_bytes, with_offsets ? offsets.data() : nullptr};
    }
};

// Weight value i of weight row c, zero point subtracted, times its scale.
double u4_weight(const U4Rows& u, const U4Case& c, int row, int64_t i) {
    const int64_t blk = i / c.block_size, j = i % c.block_size;
    const int z = c.zp ? (u.zp[static_cast<size_t>(row * u.zp_bytes + blk / 2)] >> (blk % 2 * 4)) & 0xF : 8;
    const int qv = (u.q[static_cast<size_t>(row * u.row_bytes + blk * c.block_size / 2 + j / 2)] >> (j % 2 * 4)) & 0xF;
    return double{u.scales[static_cast<size_t>(row * u.blocks + blk)]} * (qv - z);
}

U4Rows make_u4(const U4Case& c, std::mt19937& rng) {
    U4Rows u;
    u.blocks = (c.k + c.block_size - 1) / c.block_size;
    u.row_bytes = u.blocks * c.block_size / 2;
    u.zp_bytes = c.zp ? (u.blocks + 1) / 2 : 0;
    std::uniform_int_distribution<int> byte(0, 255);
    u.q.resize(static_cast<size_t>(kMaxDotRows * u.row_bytes));
    for (uint8_t& b : u.q) b = static_cast<uint8_t>(byte(rng));
    u.zp.resize(static_cast<size_t>(kMaxDotRows * u.zp_bytes));
    for (uint8_t& b : u.zp) b = static_cast<uint8_t>(byte(rng));
    u.scales = test::random_floats(kMaxDotRows * u.blocks, rng, 0.05f);
    for (int r = 0; r < kMaxDotRows; r++) u.a.push_back(test::random_floats(c.k, rng));
    for (int r = 0; r < kMaxDotRows; r++)
        for (int w = 0; w < kMaxDotRows; w++)
            for (int64_t i = 0; i < c.k; i++) u.abs_dot[r][w] += std::fabs(u4_weight(u, c, w, i) * u.a[static_cast<size_t>(r)][static_cast<size_t>(i)]);
    for (const auto& r : u.a) u.rows.push_back(r.data());
    u.offsets.resize(static_cast<size_t>(kMaxDotRows * u.blocks));
    u4_offsets(u.weights(), kMaxDotRows, u.blocks, u.offsets.data());
    return u;
}

std::vector<float> run_matmul(const Table& t, const MatmulCase& c, const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<float> y(static_cast<size_t>(c.m * c.n), -1.0f);  // outside [c0, c1) must stay -1
    t.rows_times_matrix_f32(c.m, c.k, c.n, a.data(), b.data(), y.data(), c.c0, c.c1);
    return y;
}

std::string label(const MatmulCase& c) {
    return "m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n) + " columns " +
           std::to_string(c.c0) + ".." + std::to_string(c.c1);
}

std::string label(const U4Case& c, int nw, int nr) {
    return "k=" + std::to_string(c.k) + " block " + std::to_string(c.block_size) + (c.zp ? " zp" : "") + ", " + std::to_string(nw) +
           " weight rows × " + std::to_string(nr);
}

}  // namespace

TEST(MatmulKernels, RowsTimesMatrixMatchesScalar) {
    const Table& scalar = table(Isa::scalar);
    std::mt19937 rng(11);
    for (const MatmulCase& c : kMatmulCases) {
        const std::vector<float> a = test::random_floats(c.m * c.k, rng), b = test::random_floats(c.k * c.n, rng);
        const std::vector<float> want = run_matmul(scalar, c, a, b);
        for (Isa isa : available_isas()) {
            const std::vector<float> got = run_matmul(table(isa), c, a, b);
            const std::vector<float> det = run_matmul(deterministic_table(isa), c, a, b);
            for (int64_t r = 0; r < c.m; r++)
                for (int64_t j = 0; j < c.n; j++) {
                    const size_t at = static_cast<size_t>(r * c.n + j);
                    if (j < c.c0 || j >= c.c1) {
                        ASSERT_EQ(got[at], -1.0f) << isa_name(isa) << " " << label(c) << " wrote column " << j;
                        continue;
                    }
                    double abs_sum = 0;
                    for (int64_t i = 0; i < c.k; i++) abs_sum += std::fabs(double{a[static_cast<size_t>(r * c.k + i)]} * b[static_cast<size_t>(i * c.n + j)]);
                    ASSERT_NEAR(got[at], want[at], 1e-5 * abs_sum) << isa_name(isa) << " " << label(c) << " at " << r << ", " << j;
                    ASSERT_EQ(std::memcmp(&det[at], &want[at], 4), 0) << "deterministic " << isa_name(isa) << " " << label(c);
                }
        }
    }
}

// The dense layers' GEMM over packed panels: rows around the 12-row tiles, k around the
// op's 128-value ranges (and 0), n around the 16-column panels and their pairs; y's rows
// wider than n (ldy) and a's wider than k (lda), with bias and GELU.
TEST(MatmulKernels, GemmF32PanelsMatchesScalar) {
    struct Case {
        int64_t m, k, n;
        bool bias, gelu;
    };
    constexpr Case kCases[] = {{1, 1, 1, false, false}, {5, 7, 15, true, false}, {12, 128, 16, false, true}, {13, 129, 17, true, true},
                               {25, 300, 33, true, true}, {30, 384, 100, false, false}, {3, 0, 40, true, true}, {24, 64, 64, true, false}};
    const Table& scalar = table(Isa::scalar);
    std::mt19937 rng(13);
    for (const Case& c : kCases) {
        const int64_t lda = c.k + 3, ldy = c.n + 5;
        const std::vector<float> a = test::random_floats(c.m * lda, rng), w_nk = test::random_floats(c.n * c.k, rng);
        const std::vector<float> bias = test::random_floats(c.n, rng);
        std::vector<float> w_kn(static_cast<size_t>(c.k * c.n));
        for (int64_t j = 0; j < c.n; j++)
            for (int64_t i = 0; i < c.k; i++) w_kn[static_cast<size_t>(i * c.n + j)] = w_nk[static_cast<size_t>(j * c.k + i)];
        std::vector<float> panels(static_cast<size_t>(f32_panels(c.n) * c.k * kF32Panel)), panels_kn(panels.size());
        pack_f32_panels(w_nk.data(), c.k, c.n, c.k, true, panels.data());
        pack_f32_panels(w_kn.data(), c.n, c.n, c.k, false, panels_kn.data());
        ASSERT_EQ(panels, panels_kn) << "the [n, k] and [k, n] layouts pack alike";
        // As the dense op calls it: k in ranges of 128; m rows, or only the first.
        const auto run = [&](const Table& t, int64_t m) {
            std::vector<float> y(static_cast<size_t>((c.m + 1) * ldy), -1.0f);  // outside the m × n block must stay -1
            for (int64_t k0 = 0; k0 == 0 || k0 < c.k; k0 += 128)
                t.gemm_f32_panels(m, c.k, k0, std::min(c.k, k0 + 128), a.data(), lda, panels.data(), c.n, y.data(), ldy,
                                  c.bias ? bias.data() : nullptr, c.gelu);
            return y;
        };
        const std::vector<float> want = run(scalar, c.m);
        const std::string what = "m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n);
        for (Isa isa : available_isas()) {
            const std::vector<float> got = run(table(isa), c.m), first = run(table(isa), 1);
            ASSERT_EQ(run(deterministic_table(isa), c.m), want) << "deterministic " << isa_name(isa) << " " << what;
            for (int64_t r = 0; r <= c.m; r++)
                for (int64_t j = 0; j < ldy; j++) {
                    const size_t at = static_cast<size_t>(r * ldy + j);
                    if (r == c.m || j >= c.n) {
                        ASSERT_EQ(got[at], -1.0f) << isa_name(isa) << " " << what << " wrote " << r << ", " << j;
                        continue;
                    }
                    double abs_sum = c.bias ? std::fabs(bias[static_cast<size_t>(j)]) : 0;
                    for (int64_t i = 0; i < c.k; i++) abs_sum += std::fabs(double{a[static_cast<size_t>(r * lda + i)]} * w_kn[static_cast<size_t>(i * c.n + j)]);
                    // GELU's slope is at most 1.13 and the SIMD erf is within 1.5e-7
                    ASSERT_NEAR(got[at], want[at], 1.2e-5 * abs_sum + (c.gelu ? 1e-6 * (1 + std::fabs(want[at])) : 0))
                        << isa_name(isa) << " " << what << " at " << r << ", " << j;
                    if (r == 0) {
                        ASSERT_EQ(std::memcmp(&first[at], &got[at], 4), 0) << isa_name(isa) << " " << what << ": the row count changed row 0";
                    }
                }
        }
    }
}

// The bf16 GEMM: its scalar reference within bf16 rounding of the f32 product (each
// weight and value within 2^-9 relative, so a sum within 2^-8 of the sum of absolute
// products), and every table that multiplies bf16 natively within float rounding of that
// reference; the conversion of a's rows byte for byte, writing whole pairs only.
TEST(MatmulKernels, GemmBf16PanelsMatchesScalar) {
    struct Case {
        int64_t m, k, n;
        bool bias, gelu;
    };
    constexpr Case kCases[] = {{1, 1, 1, false, false}, {5, 7, 15, true, false}, {12, 256, 16, false, true}, {13, 257, 17, true, true},
                               {25, 300, 33, true, true}, {30, 384, 100, false, false}, {3, 0, 40, true, true}, {24, 33, 64, true, false}};
    std::mt19937 rng(14);
    for (const Case& c : kCases) {
        const int64_t k2 = (c.k + 1) / 2, lda = k2 + 2, ldy = c.n + 5;
        const std::vector<float> x = test::random_floats(c.m * c.k, rng), w = test::random_floats(c.n * c.k, rng);
        const std::vector<float> bias = test::random_floats(c.n, rng);
        std::vector<float> panels(static_cast<size_t>(f32_panels(c.n) * c.k * kF32Panel));
        pack_f32_panels(w.data(), c.k, c.n, c.k, true, panels.data());
        std::vector<uint32_t> panels16(static_cast<size_t>(f32_panels(c.n) * k2 * kF32Panel));
        pack_bf16_panels(panels.data(), c.n, c.k, panels16.data());
        const std::string what = "m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n);
        // a's rows as pairs by each table's conversion, the word past each row a sentinel
        const auto pairs = [&](const Table& t) {
            std::vector<uint32_t> a(static_cast<size_t>(c.m * lda), 0xDEADBEEFu);
            for (int64_t r = 0; r < c.m; r++) t.to_bf16_pairs(c.k, x.data() + r * c.k, a.data() + r * lda);
            return a;
        };
        const std::vector<uint32_t> a = pairs(table(Isa::scalar));
        for (int64_t r = 0; r < c.m; r++) ASSERT_EQ(a[static_cast<size_t>(r * lda + k2)], 0xDEADBEEFu) << what;
        const auto run = [&](GemmBf16PanelsFn gemm, GemmF32PanelsFn gemm32) {
            std::vector<float> y(static_cast<size_t>(c.m * ldy), -1.0f);
            for (int64_t k0 = 0; k0 == 0 || k0 < k2; k0 += 64)
                gemm ? gemm(c.m, k2, k0, std::min(k2, k0 + 64), a.data(), lda, panels16.data(), c.n, y.data(), ldy, c.bias ? bias.data() : nullptr, c.gelu)
                     : gemm32(c.m, c.k, 0, c.k, x.data(), c.k, panels.data(), c.n, y.data(), ldy, c.bias ? bias.data() : nullptr, c.gelu);
            return y;
        };
        const std::vector<float> want = run(gemm_bf16_panels_scalar, nullptr), f32 = run(nullptr, table(Isa::scalar).gemm_f32_panels);
        const auto abs_sum = [&](int64_t r, int64_t j) {
            double s = c.bias ? std::fabs(bias[static_cast<size_t>(j)]) : 0;
            for (int64_t i = 0; i < c.k; i++) s += std::fabs(double{x[static_cast<size_t>(r * c.k + i)]} * w[static_cast<size_t>(j * c.k + i)]);
            return s;
        };
        for (int64_t r = 0; r < c.m; r++)
            for (int64_t j = 0; j < c.n; j++)
                ASSERT_NEAR(want[static_cast<size_t>(r * ldy + j)], f32[static_cast<size_t>(r * ldy + j)], std::ldexp(abs_sum(r, j), -8) * 1.2)
                    << "scalar bf16 vs f32, " << what << " at " << r << ", " << j;
        for (Isa isa : available_isas()) {
            const Table& t = table(isa);
            ASSERT_EQ(pairs(t), a) << isa_name(isa) << " to_bf16_pairs, " << what;
            if (!t.gemm_bf16_panels) continue;
            const std::vector<float> got = run(t.gemm_bf16_panels, nullptr);
            for (int64_t r = 0; r < c.m; r++)
                for (int64_t j = 0; j < ldy; j++) {
                    const size_t at = static_cast<size_t>(r * ldy + j);
                    if (j >= c.n) {
                        ASSERT_EQ(got[at], -1.0f) << isa_name(isa) << " " << what << " wrote " << r << ", " << j;
                        continue;
                    }
                    ASSERT_NEAR(got[at], want[at], 1.2e-5 * abs_sum(r, j) + (c.gelu ? 1e-6 * (1 + std::fabs(want[at])) : 0))
                        << isa_name(isa) << " " << what << " at " << r << ", " << j;
                }
        }
    }
}

// Rows of scores around the 16-lane vectors, scaled as attention scales them.
TEST(MatmulKernels, SoftmaxRowMatchesScalar) {
    std::mt19937 rng(15);
    for (int64_t n : {1, 5, 16, 17, 128, 131}) {
        const std::vector<float> x = test::random_floats(n, rng, 8.0f);
        std::vector<float> want = x;
        table(Isa::scalar).softmax_row(n, want.data(), 0.177f);
        double total = 0;
        for (float p : want) total += p;
        ASSERT_NEAR(total, 1.0, 1e-5) << n;
        for (Isa isa : available_isas()) {
            std::vector<float> got = x, det = x;
            table(isa).softmax_row(n, got.data(), 0.177f);
            deterministic_table(isa).softmax_row(n, det.data(), 0.177f);
            ASSERT_EQ(det, want) << "deterministic " << isa_name(isa) << " n=" << n;
            for (int64_t i = 0; i < n; i++) ASSERT_NEAR(got[static_cast<size_t>(i)], want[static_cast<size_t>(i)], 1e-6f * (1 + want[static_cast<size_t>(i)]) ) << isa_name(isa) << " n=" << n << " at " << i;
        }
    }
}

TEST(MatmulKernels, GeluSimdFollowsTheErfForm) {
    std::vector<float> x;
    for (float v = -12.0f; v <= 12.0f; v += 0.01f) x.push_back(v);
    const std::vector<float> one(1, 1.0f);
    for (Isa isa : available_isas()) {
        // gelu(x) as a 1 × 1 product of x with the weight 1
        std::vector<float> panel(static_cast<size_t>(kF32Panel), 0.0f);
        panel[0] = 1.0f;
        for (float v : x) {
            float y = 0;
            table(isa).gemm_f32_panels(1, 1, 0, 1, &v, 1, panel.data(), 1, &y, 1, nullptr, true);
            ASSERT_NEAR(y, gelu_erf(v), 1e-6f * (1 + std::fabs(v))) << isa_name(isa) << " at " << v;
        }
    }
}

TEST(MatmulKernels, DotU4MatchesScalar) {
    const Table& scalar = table(Isa::scalar);
    std::mt19937 rng(12);
    for (const U4Case& c : kU4Cases) {
        const U4Rows u = make_u4(c, rng);
        for (int nw = 1; nw <= kMaxDotRows; nw++)
            for (int nr = 1; nr <= kMaxDotRows; nr++) {
                float want[kMaxDotRows * kMaxDotRows];
                scalar.dot_u4_f32(c.k, c.block_size, u.weights(), nw, u.rows.data(), nr, want);
                for (Isa isa : available_isas())
                    for (bool offsets : {false, true}) {  // the zero points, or the blocks' offsets
                        float got[kMaxDotRows * kMaxDotRows], det[kMaxDotRows * kMaxDotRows];
                        table(isa).dot_u4_f32(c.k, c.block_size, u.weights(offsets), nw, u.rows.data(), nr, got);
                        deterministic_table(isa).dot_u4_f32(c.k, c.block_size, u.weights(offsets), nw, u.rows.data(), nr, det);
                        for (int r = 0; r < nr; r++)
                            for (int w = 0; w < nw; w++) {
                                const int at = r * nw + w;
                                EXPECT_NEAR(got[at], want[at], 1e-5 * u.abs_dot[r][w])
                                    << isa_name(isa) << (offsets ? " offsets " : " ") << label(c, nw, nr) << " at " << r << ", " << w;
                                EXPECT_EQ(std::memcmp(&det[at], &want[at], 4), 0) << "deterministic " << isa_name(isa) << " " << label(c, nw, nr);
                            }
                    }
            }
    }
}

// The scalar reference itself against a double-precision dot of the dequantized weights.
TEST(MatmulKernels, DotU4ScalarMatchesDequantizedDot) {
    std::mt19937 rng(13);
    for (const U4Case& c : kU4Cases) {
        const U4Rows u = make_u4(c, rng);
        float got[kMaxDotRows * kMaxDotRows];
        table(Isa::scalar).dot_u4_f32(c.k, c.block_size, u.weights(), kMaxDotRows, u.rows.data(), kMaxDotRows, got);
        for (int r = 0; r < kMaxDotRows; r++)
            for (int w = 0; w < kMaxDotRows; w++) {
                double want = 0;
                for (int64_t i = 0; i < c.k; i++) want += u4_weight(u, c, w, i) * u.a[static_cast<size_t>(r)][static_cast<size_t>(i)];
                EXPECT_NEAR(got[r * kMaxDotRows + w], want, 1e-6 * u.abs_dot[r][w] + 1e-30) << label(c, kMaxDotRows, kMaxDotRows);
            }
    }
}

namespace {

// accuracy_level 4: blocks of 32 or more; odd chunk counts (3, 7), partial groups of eight
// chunks (18) and a padded last chunk (k = 40, 1000).
constexpr U4Case kU4Q8Cases[] = {{96, 32, true},    {224, 32, false}, {576, 32, true},   {576, 128, false},
                                 {1536, 64, true},  {4096, 32, false}, {40, 32, true},    {1000, 128, true}};

// The activation rows quantize_u4_q8 makes of u.a.
std::vector<std::vector<uint8_t>> quantize_u4_q8_rows(const Table& t, const U4Rows& u, int64_t k, int64_t block_size) {
    std::vector<std::vector<uint8_t>> q;
    for (const auto& a : u.a) {
        q.emplace_back(static_cast<size_t>(u4_q8_row_bytes(k)));
        t.quantize_u4_q8(a.data(), q.back().data(), k, block_size);
    }
    return q;
}

// Value i of a quantized row: d of its chunk times its int8 (evens first, then odds).
double u4_q8_value(const std::vector<uint8_t>& q, int64_t k, int64_t i) {
    float d;
    std::memcpy(&d, q.data() + 32 * u4_q8_chunks(k) + 4 * (i / 32), 4);
    const int64_t j = i % 32;
    return double{d} * static_cast<int8_t>(q[static_cast<size_t>(i / 32 * 32 + (j % 2) * 16 + j / 2)]);
}

}  // namespace

// The scalar reference: the quantized activations within half a step of the inputs, their
// scale their block's, the stored sums right, and the dot equal to a double-precision dot of the dequantized
// weights with the dequantized activations.
TEST(MatmulKernels, DotU4Q8ScalarMatchesDequantizedDot) {
    std::mt19937 rng(14);
    for (const U4Case& c : kU4Q8Cases) {
        const U4Rows u = make_u4(c, rng);
        const auto q = quantize_u4_q8_rows(table(Isa::scalar), u, c.k, c.block_size);
        const void* rows[kMaxDotRows];
        for (int r = 0; r < kMaxDotRows; r++) rows[r] = q[static_cast<size_t>(r)].data();
        for (int r = 0; r < kMaxDotRows; r++) {
            const auto& qr = q[static_cast<size_t>(r)];
            const int64_t chunks = u4_q8_chunks(c.k);
            for (int64_t ch = 0; ch < chunks; ch++) {
                float d, ds;
                std::memcpy(&d, qr.data() + 32 * chunks + 4 * ch, 4);
                std::memcpy(&ds, qr.data() + 32 * chunks + 4 * (chunks + ch), 4);
                const int64_t g0 = ch * 32 / c.block_size * c.block_size, g1 = std::min(c.k, g0 + c.block_size);
                float amax = 0;  // d is its block's: onnxruntime quantizes A per block
                for (int64_t i = g0; i < g1; i++) amax = std::max(amax, std::fabs(u.a[static_cast<size_t>(r)][static_cast<size_t>(i)]));
                EXPECT_EQ(d, amax / 127.0f) << label(c, 1, 1) << " chunk " << ch;
                double sum = 0;
                for (int64_t i = ch * 32; i < ch * 32 + 32; i++) {  // past k: padding, 0
                    const double x = i < c.k ? u.a[static_cast<size_t>(r)][static_cast<size_t>(i)] : 0.0;
                    EXPECT_LE(std::fabs(u4_q8_value(qr, c.k, i) - x), 0.5001 * d) << label(c, 1, 1) << " value " << i;
                    sum += u4_q8_value(qr, c.k, i);
                }
                EXPECT_NEAR(ds, sum, 1e-5 * std::fabs(sum) + 1e-6);
            }
        }
        float got[kMaxDotRows * kMaxDotRows];
        table(Isa::scalar).dot_u4_q8(c.k, c.block_size, u.weights(), kMaxDotRows, rows, kMaxDotRows, got);
        for (int r = 0; r < kMaxDotRows; r++)
            for (int w = 0; w < kMaxDotRows; w++) {
                double want = 0, abs = 0;
                for (int64_t i = 0; i < c.k; i++) {
                    const double p = u4_weight(u, c, w, i) * u4_q8_value(q[static_cast<size_t>(r)], c.k, i);
                    want += p;
                    abs += std::fabs(p);
                }
                EXPECT_NEAR(got[r * kMaxDotRows + w], want, 1e-5 * abs + 1e-30) << label(c, kMaxDotRows, kMaxDotRows) << " at " << r << ", " << w;
            }
    }
}

// Every ISA against the scalar reference; the deterministic tables and batching bit for bit.
TEST(MatmulKernels, DotU4Q8MatchesScalar) {
    std::mt19937 rng(15);
    for (const U4Case& c : kU4Q8Cases) {
        const U4Rows u = make_u4(c, rng);
        for (Isa isa : available_isas()) {
            const auto q = quantize_u4_q8_rows(table(isa), u, c.k, c.block_size);
            EXPECT_EQ(q, quantize_u4_q8_rows(table(Isa::scalar), u, c.k, c.block_size)) << isa_name(isa);
            const void* rows[kMaxDotRows];
            for (int r = 0; r < kMaxDotRows; r++) rows[r] = q[static_cast<size_t>(r)].data();
            for (int nw = 1; nw <= kMaxDotRows; nw++)
                for (int nr = 1; nr <= kMaxDotRows; nr++) {
                    float want[kMaxDotRows * kMaxDotRows], got[kMaxDotRows * kMaxDotRows], det[kMaxDotRows * kMaxDotRows];
                    table(Isa::scalar).dot_u4_q8(c.k, c.block_size, u.weights(), nw, rows, nr, want);
                    table(isa).dot_u4_q8(c.k, c.block_size, u.weights(), nw, rows, nr, got);
                    deterministic_table(isa).dot_u4_q8(c.k, c.block_size, u.weights(), nw, rows, nr, det);
                    for (int r = 0; r < nr; r++)
                        for (int w = 0; w < nw; w++) {
                            const int at = r * nw + w;
                            EXPECT_NEAR(got[at], want[at], 2e-5 * u.abs_dot[r][w]) << isa_name(isa) << " " << label(c, nw, nr) << " at " << r << ", " << w;
                            EXPECT_EQ(std::memcmp(&det[at], &want[at], 4), 0) << "deterministic " << isa_name(isa) << " " << label(c, nw, nr);
                            U4Weights one_row = u.weights();
                            one_row.q += w * u.row_bytes;
                            one_row.scales += w * u.blocks;
                            if (one_row.zp) one_row.zp += w * u.zp_bytes;
                            float one;
                            table(isa).dot_u4_q8(c.k, c.block_size, one_row, 1, rows + r, 1, &one);
                            EXPECT_EQ(std::memcmp(&one, &got[at], 4), 0) << "batching changed a result: " << isa_name(isa) << " " << label(c, nw, nr);
                        }
                }
        }
    }
}
