// Repacked Q4_K tiles (kernels/packed_q4k.hpp): the scalar reference equals ggml's row dot
// (the scalar vec_dot) up to float rounding, and every SIMD kernel returns its bits.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "kernels/kernels.hpp"
#include "random_rows.hpp"

using namespace lmx;

namespace {

struct Case {
    int64_t n = 32, k = 768;
    std::vector<uint8_t> w;               // n rows of Q4_K
    std::vector<std::vector<uint8_t>> a;  // activation rows as Q8_K
    std::vector<const void*> a_ptrs;
    Case(int rows, std::mt19937& rng) {
        for (int64_t i = 0; i < n; i++) {
            const auto row = test::random_weight_row(DType::Q4_K, k, rng);
            w.insert(w.end(), row.begin(), row.end());
        }
        const auto& scalar = kernels::table(kernels::Isa::scalar);
        for (int r = 0; r < rows; r++) {
            const std::vector<float> x = test::random_floats(k, rng);
            a.emplace_back(dtype_row_bytes(DType::Q8_K, k));
            scalar.quantize[static_cast<int>(DType::Q8_K)](x.data(), a.back().data(), k);
        }
        for (const auto& row : a) a_ptrs.push_back(row.data());
    }
};

}  // namespace

TEST(PackedQ4K, ScalarMatchesTheRowDot) {
    std::mt19937 rng(7);
    Case c(3, rng);
    const kernels::PackedQ4K packed(c.w.data(), c.n, c.k);
    const auto& scalar = kernels::table(kernels::Isa::scalar);
    const size_t row_bytes = dtype_row_bytes(DType::Q4_K, c.k);
    std::vector<float> y(3 * c.n);
    for (int64_t t = 0; t < c.n / kernels::kPackedRows; t++)
        kernels::packed_q4k_scalar(c.k, packed.tile(t), c.a_ptrs.data(), 3, y.data() + t * kernels::kPackedRows, c.n);
    for (int r = 0; r < 3; r++)
        for (int64_t col = 0; col < c.n; col++) {
            const float want = scalar.weight[static_cast<int>(DType::Q4_K)].vec_dot(c.k, c.w.data() + col * row_bytes, c.a_ptrs[r]);
            EXPECT_NEAR(y[r * c.n + col], want, 1e-5f * (1.0f + std::fabs(want))) << "row " << r << " column " << col;
        }
}

TEST(PackedQ4K, SimdKernelsAreBitIdenticalToScalar) {
    std::mt19937 rng(11);
    Case c(kernels::kMaxDotRows, rng);
    const kernels::PackedQ4K packed(c.w.data(), c.n, c.k);
    int checked = 0;
    for (kernels::Isa isa : kernels::available_isas()) {
        const auto fn = kernels::table(isa).packed_q4k;
        if (!fn) continue;
        for (int nr = 1; nr <= kernels::kMaxDotRows; nr++) {
            std::vector<float> want(nr * c.n), got(nr * c.n);
            for (int64_t t = 0; t < c.n / kernels::kPackedRows; t++) {
                kernels::packed_q4k_scalar(c.k, packed.tile(t), c.a_ptrs.data(), nr, want.data() + t * kernels::kPackedRows, c.n);
                fn(c.k, packed.tile(t), c.a_ptrs.data(), nr, got.data() + t * kernels::kPackedRows, c.n);
            }
            EXPECT_EQ(got, want) << kernels::isa_name(isa) << ", " << nr << " rows";
            checked++;
        }
    }
    if (!test::available(kernels::Isa::avx512)) GTEST_SKIP() << "no AVX-512 VNNI here: only the scalar reference ran";
    EXPECT_GT(checked, 0);
}

TEST(PackedQ4K, RefusesShapesItCannotTile) {
    std::vector<uint8_t> w(dtype_row_bytes(DType::Q4_K, 256) * 8);
    EXPECT_THROW(kernels::PackedQ4K(w.data(), 8, 256), lmx::Error);
}
