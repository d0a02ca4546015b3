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

TEST(PackedWeights, RefusesWhatItCannotTile) {
    std::vector<uint8_t> w(dtype_row_bytes(DType::Q4_K, 256) * 8);
    EXPECT_THROW(kernels::PackedWeights(DType::Q4_K, w.data(), 8, 256), lmx::Error);
    EXPECT_THROW(kernels::PackedWeights(DType::Q6_K, w.data(), 16, 256), lmx::Error);
}
