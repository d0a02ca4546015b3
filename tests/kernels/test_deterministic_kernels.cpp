// Deterministic tables: every ISA's entries return the scalar reference's bits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <cstring>
#include <string>

#include "base/det_math.hpp"
#include "kernels/kernels.hpp"
#include "random_rows.hpp"

using namespace lmx;
using namespace lmx::kernels;

namespace {

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

constexpr DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                  DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                                  DType::Q4_K, DType::Q5_K, DType::Q6_K};

TEST(DeterministicKernels, VecDotMatchesScalarBitForBit) {
    const Table& scalar = table(Isa::scalar);
    std::mt19937 rng(7);
    for (Isa isa : available_isas()) {
        const Table& det = deterministic_table(isa);
        for (DType wt : kWeightTypes) {
            const WeightKernels& ref = scalar.weight[static_cast<int>(wt)];
            const WeightKernels& k = det.weight[static_cast<int>(wt)];
            ASSERT_EQ(k.act_type, ref.act_type);
            // SmolLM2's FFN width (a multiple of every block size) and its model width (a
            // tail of 32-element blocks after the SIMD kernels' groups of eight)
            for (int rep = 0; rep < 20; rep++) {
                const int64_t n = rep % 2 == 0 || dtype_info(wt).block_elems > 32 ? 1536 : 576;
                const std::vector<uint8_t> w = test::random_weight_row(wt, n, rng);
                const std::vector<float> x = test::random_floats(n, rng);
                std::vector<uint8_t> a(dtype_row_bytes(ref.act_type, n)), a_det(a.size());
                scalar.quantize[static_cast<int>(ref.act_type)](x.data(), a.data(), n);
                det.quantize[static_cast<int>(ref.act_type)](x.data(), a_det.data(), n);
                ASSERT_EQ(a, a_det) << isa_name(isa) << " " << dtype_name(wt);
                const float want = ref.vec_dot(n, w.data(), a.data());
                EXPECT_EQ(bits(k.vec_dot(n, w.data(), a.data())), bits(want))
                    << isa_name(isa) << " " << dtype_name(wt) << " rep " << rep;
                if (!k.vec_dot_rows) continue;
                // a multi-row kernel: each row equals the single-row reference, whatever its neighbours
                for (int nr = 1; nr <= kMaxDotRows; nr++) {
                    std::vector<std::vector<uint8_t>> rows(static_cast<size_t>(nr), a);
                    for (int r = 1; r < nr; r++) {
                        const std::vector<float> xr = test::random_floats(n, rng);
                        scalar.quantize[static_cast<int>(ref.act_type)](xr.data(), rows[static_cast<size_t>(r)].data(), n);
                    }
                    const void* ptrs[kMaxDotRows];
                    for (int r = 0; r < nr; r++) ptrs[r] = rows[static_cast<size_t>(r)].data();
                    float got[kMaxDotRows];
                    k.vec_dot_rows(n, w.data(), ptrs, nr, got);
                    for (int r = 0; r < nr; r++)
                        EXPECT_EQ(bits(got[r]), bits(ref.vec_dot(n, w.data(), ptrs[r])))
                            << isa_name(isa) << " " << dtype_name(wt) << " rows " << nr << " row " << r;
                }
            }
        }
    }
}

// The attention dot follows the scalar 8-lane order (checked against a double-precision
// dot), the axpy the scalar reference.
TEST(DeterministicKernels, AttentionDotAndAxpyMatchScalarBitForBit) {
    const Table& scalar = deterministic_table(Isa::scalar);
    std::mt19937 rng(11);
    for (Isa isa : available_isas()) {
        const Table& det = deterministic_table(isa);
        for (int64_t n : {1, 15, 64, 128, 131}) {
            const std::vector<float> xf = test::random_floats(n, rng), y = test::random_floats(n, rng);
            std::vector<uint16_t> x(static_cast<size_t>(n));
            for (size_t i = 0; i < x.size(); i++) x[i] = fp32_to_fp16(xf[i]);
            EXPECT_EQ(bits(det.dot_f16_f32(n, x.data(), y.data())), bits(scalar.dot_f16_f32(n, x.data(), y.data())))
                << isa_name(isa) << " n=" << n;
            double exact = 0, abs_sum = 0;
            for (size_t i = 0; i < x.size(); i++)
                exact += double{fp16_to_fp32(x[i])} * y[i], abs_sum += std::fabs(double{fp16_to_fp32(x[i])} * y[i]);
            EXPECT_NEAR(scalar.dot_f16_f32(n, x.data(), y.data()), exact, 1e-6 * abs_sum + 1e-7) << "n=" << n;
            std::vector<float> acc = y, acc_ref = y;
            det.axpy_f16(n, 0.37f, x.data(), acc.data());
            scalar.axpy_f16(n, 0.37f, x.data(), acc_ref.data());
            EXPECT_EQ(0, std::memcmp(acc.data(), acc_ref.data(), acc.size() * sizeof(float))) << isa_name(isa);
        }
    }
}

}  // namespace

TEST(DeterministicKernels, ExpRowMatchesDetExpBitForBit) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> wide(-130.0f, 100.0f), near(-1.0f, 1.0f);
    std::vector<float> x = {0.0f, -0.0f, 88.8f, 88.81f, -104.0f, -104.01f, 0.5f, -0.5f, 1e-30f,
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
    for (int i = 0; i < 4000; i++) x.push_back(i % 2 ? wide(rng) : near(rng));
    x.push_back(3.0f);  // an odd length: the SIMD loop's tail
    for (Isa isa : available_isas()) {
        for (const Table* t : {&table(isa), &deterministic_table(isa)}) {
            std::vector<float> y(x.size());
            t->exp_det(static_cast<int64_t>(x.size()), x.data(), y.data());
            for (size_t i = 0; i < x.size(); i++)
                ASSERT_EQ(bits(y[i]), bits(det_exp(x[i]))) << isa_name(isa) << " x = " << x[i];
        }
    }
}

