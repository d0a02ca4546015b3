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

std::vector<uint16_t> halves(const std::vector<float>& x) {
    std::vector<uint16_t> h;
    for (float f : x) h.push_back(fp32_to_fp16(f));
    return h;
}

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

// attend_det_f16 returns the scalar reference's bits in every table of every ISA (the fast
// tables too: WASM's fast path takes it), for head sizes the SIMD versions specialise and
// one they do not, odd and even position counts, a window of other kv heads between rows.
TEST(DeterministicKernels, AttendDetMatchesScalarBitForBit) {
    const Table& scalar = deterministic_table(Isa::scalar);
    std::mt19937 rng(11);
    for (int hd : {64, 128, 40})
        for (int group : {1, 3, 6})
            for (int64_t n : {1, 2, 15, 16, 33, 200}) {
                const int64_t stride = 2 * hd + 8;
                const std::vector<uint16_t> k = halves(test::random_floats(n * stride, rng, 2.0f));
                const std::vector<uint16_t> v = halves(test::random_floats(n * stride, rng));
                const std::vector<float> q = test::random_floats(int64_t{group} * hd, rng);
                const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
                std::vector<float> scores(static_cast<size_t>(group * n)), want(static_cast<size_t>(group * hd));
                scalar.attend_det_f16(group, hd, q.data(), k.data(), v.data(), stride, n, scale, scores.data(), want.data());
                for (Isa isa : available_isas())
                    for (const Table* t : {&table(isa), &deterministic_table(isa)}) {
                        std::vector<float> got(want.size(), NAN);
                        t->attend_det_f16(group, hd, q.data(), k.data(), v.data(), stride, n, scale, scores.data(), got.data());
                        ASSERT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
                            << isa_name(isa) << " hd=" << hd << " group=" << group << " n=" << n;
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

