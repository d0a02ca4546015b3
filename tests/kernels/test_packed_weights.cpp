// Repacked weights (kernels/packed_weights.hpp): each layout's scalar reference equals
// ggml's row dot (the scalar vec_dot), bit for bit for Q8_0, Q5_0 and Q4_1, up to float rounding
// for the others, and every SIMD kernel returns its bits.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "kernels/kernels.hpp"
#include "random_rows.hpp"

using namespace lmx;

namespace {

struct Case {
    DType wt;
    int64_t n = 32, k = 768;
    std::vector<uint8_t> w;               // n weight rows
    std::vector<std::vector<uint8_t>> a;  // activation rows, quantized to the weight type's activation type
    std::vector<const void*> a_ptrs;
    Case(DType t, int rows, std::mt19937& rng) : wt(t) {
        for (int64_t i = 0; i < n; i++) {
            const auto row = test::random_weight_row(t, k, rng);
            w.insert(w.end(), row.begin(), row.end());
        }
        const auto& scalar = kernels::table(kernels::Isa::scalar);
        const DType act = scalar.weight[static_cast<int>(t)].act_type;
        for (int r = 0; r < rows; r++) {
            const std::vector<float> x = test::random_floats(k, rng);
            a.emplace_back(dtype_row_bytes(act, k));
            scalar.quantize[static_cast<int>(act)](x.data(), a.back().data(), k);
        }
        for (const auto& row : a) a_ptrs.push_back(row.data());
    }
    // y = all rows of the packed matrix against the first nr activation rows, by fn
    std::vector<float> run(const kernels::PackedWeights& p, kernels::PackedFn fn, int nr) const {
        std::vector<float> y(static_cast<size_t>(nr * n));
        for (int64_t t = 0; t < n / kernels::kPackedRows; t++) fn(k, p.tile(t), a_ptrs.data(), nr, y.data() + t * kernels::kPackedRows, n);
        return y;
    }
};

kernels::PackedFn scalar_of(kernels::PackedLayout l) {
    switch (l) {
        case kernels::PackedLayout::q4k: return kernels::packed_q4k_scalar;
        case kernels::PackedLayout::q8: return kernels::packed_q8_scalar;
        case kernels::PackedLayout::q4_1: return kernels::packed_q4_1_scalar;
        case kernels::PackedLayout::u4: return kernels::packed_u4_scalar;
    }
    return nullptr;
}

const DType kPackable[] = {DType::Q4_K, DType::Q8_0, DType::Q5_0, DType::Q4_0, DType::Q4_1};

}  // namespace

TEST(PackedWeights, ScalarMatchesTheRowDot) {
    for (DType t : kPackable) {
        std::mt19937 rng(7);
        Case c(t, 3, rng);
        const kernels::PackedWeights packed(t, c.w.data(), c.n, c.k);
        const std::vector<float> y = c.run(packed, scalar_of(packed.layout()), 3);
        const auto& row_dot = kernels::table(kernels::Isa::scalar).weight[static_cast<int>(t)].vec_dot;
        const size_t row_bytes = dtype_row_bytes(t, c.k);
        for (int r = 0; r < 3; r++)
            for (int64_t col = 0; col < c.n; col++) {
                const float want = row_dot(c.k, c.w.data() + col * row_bytes, c.a_ptrs[r]);
                if (kernels::PackedWeights::equals_row_dot(t)) EXPECT_EQ(y[r * c.n + col], want) << dtype_name(t) << " row " << r << " column " << col;
                else EXPECT_NEAR(y[r * c.n + col], want, 1e-5f * (1.0f + std::fabs(want))) << dtype_name(t) << " row " << r << " column " << col;
            }
    }
}

TEST(PackedWeights, SimdKernelsAreBitIdenticalToScalar) {
    int checked = 0;
    for (DType t : kPackable) {
        std::mt19937 rng(11);
        Case c(t, kernels::kMaxDotRows, rng);
        const kernels::PackedWeights packed(t, c.w.data(), c.n, c.k);
        for (kernels::Isa isa : kernels::available_isas()) {
            const kernels::PackedFn fn = kernels::table(isa).packed[static_cast<int>(packed.layout())];
            if (!fn) continue;
            for (int nr = 1; nr <= kernels::kMaxDotRows; nr++) {
                EXPECT_EQ(c.run(packed, fn, nr), c.run(packed, scalar_of(packed.layout()), nr))
                    << dtype_name(t) << ", " << kernels::isa_name(isa) << ", " << nr << " rows";
                checked++;
            }
        }
    }
    if (!test::available(kernels::Isa::avx512)) GTEST_SKIP() << "no AVX-512 VNNI here: only the scalar references ran";
    EXPECT_GT(checked, 0);
}

// onnxruntime's MatMulNBits 4-bit weights in the u4 layout: the scalar reference equals the
// table's MatMulNBits int8 dot (dot_u4_q8, held to onnxruntime's outputs by
// tests/models/test_onnx_quantize.cpp) up to float rounding, and every SIMD kernel returns
// the reference's bits. Blocks of 32 and 64, with zero points and without.
TEST(PackedWeights, U4EqualsTheMatMulNBitsInt8Dot) {
    constexpr int64_t n = 32, k = 768;
    const auto& scalar = kernels::table(kernels::Isa::scalar);
    int simd_checked = 0;
    for (int64_t block : {32, 64})
        for (bool with_zp : {true, false}) {
            std::mt19937 rng(static_cast<unsigned>(block) + with_zp);
            const int64_t blocks = k / block;
            std::vector<uint8_t> q(static_cast<size_t>(n * k / 2)), zp(static_cast<size_t>(n * ((blocks + 1) / 2)));
            std::vector<float> scales(static_cast<size_t>(n * blocks));
            for (auto& b : q) b = static_cast<uint8_t>(rng());
            for (auto& b : zp) b = static_cast<uint8_t>(rng());
            std::uniform_real_distribution<float> scale(0.001f, 0.05f);
            for (auto& s : scales) s = scale(rng);
            const kernels::U4Matrix m{q.data(), scales.data(), with_zp ? zp.data() : nullptr, block};
            const kernels::PackedWeights packed(m, n, k);
            ASSERT_EQ(packed.layout(), kernels::PackedLayout::u4);
            std::vector<std::vector<uint8_t>> a;
            std::vector<const void*> a_ptrs;
            for (int r = 0; r < kernels::kMaxDotRows; r++) {
                const std::vector<float> x = test::random_floats(k, rng);
                a.emplace_back(static_cast<size_t>(kernels::u4_q8_row_bytes(k)));
                scalar.quantize_u4_q8(x.data(), a.back().data(), k, block);
            }
            for (const auto& row : a) a_ptrs.push_back(row.data());
            auto run = [&](kernels::PackedFn fn, int nr) {
                std::vector<float> y(static_cast<size_t>(nr * n));
                for (int64_t t = 0; t < n / kernels::kPackedRows; t++) fn(k, packed.tile(t), a_ptrs.data(), nr, y.data() + t * kernels::kPackedRows, n);
                return y;
            };
            const std::vector<float> got = run(kernels::packed_u4_scalar, kernels::kMaxDotRows);
            std::vector<float> want(static_cast<size_t>(kernels::kMaxDotRows * n));
            const kernels::U4Weights w{q.data(), scales.data(), with_zp ? zp.data() : nullptr, k / 2, blocks, (blocks + 1) / 2};
            scalar.dot_u4_q8(k, block, w, n, a_ptrs.data(), kernels::kMaxDotRows, want.data());
            for (size_t i = 0; i < want.size(); i++)
                EXPECT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::fabs(want[i]))) << "block " << block << (with_zp ? " with" : " without")
                                                                                 << " zero points, output " << i;
            for (kernels::Isa isa : kernels::available_isas()) {
                const kernels::PackedFn fn = kernels::table(isa).packed[static_cast<int>(kernels::PackedLayout::u4)];
                if (!fn) continue;
                for (int nr = 1; nr <= kernels::kMaxDotRows; nr++, simd_checked++)
                    EXPECT_EQ(run(fn, nr), run(kernels::packed_u4_scalar, nr)) << kernels::isa_name(isa) << ", " << nr << " rows, block " << block;
            }
        }
    if (!test::available(kernels::Isa::avx512)) GTEST_SKIP() << "no AVX-512 VNNI here: only the scalar reference ran";
    EXPECT_GT(simd_checked, 0);
    const kernels::U4Matrix odd{nullptr, nullptr, nullptr, 16};
    EXPECT_THROW(kernels::PackedWeights(odd, n, k), lmx::Error);
}

TEST(PackedWeights, RefusesWhatItCannotTile) {
    std::vector<uint8_t> w(dtype_row_bytes(DType::Q4_K, 256) * 8);
    EXPECT_THROW(kernels::PackedWeights(DType::Q4_K, w.data(), 8, 256), lmx::Error);
    EXPECT_THROW(kernels::PackedWeights(DType::Q6_K, w.data(), 16, 256), lmx::Error);
}
