// The fp16 KV-cache kernels of every ISA against a double-precision reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "random_rows.hpp"

using namespace lmx;

namespace {
std::vector<uint16_t> random_halves(int64_t n, std::mt19937& rng) {
    std::vector<uint16_t> h;
    for (float x : test::random_floats(n, rng)) h.push_back(fp32_to_fp16(x));
    return h;
}
}  // namespace

TEST(AttentionKernels, DotAndAxpyMatchReferenceOnEveryIsa) {
    std::mt19937 rng(7);
    for (kernels::Isa isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512}) {
        if (!test::available(isa)) {
            std::printf("[ SKIPPED ] %s not available on this CPU\n", std::string(kernels::isa_name(isa)).c_str());
            continue;
        }
        const kernels::Table& t = kernels::table(isa);
        for (int64_t n : {1, 7, 8, 15, 16, 33, 64, 128, 200}) {
            auto x = random_halves(n, rng);
            auto y = test::random_floats(n, rng);
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < n; i++) {
                ref += double(fp16_to_fp32(x[size_t(i)])) * y[size_t(i)];
                mag += std::fabs(double(fp16_to_fp32(x[size_t(i)])) * y[size_t(i)]);
            }
            EXPECT_NEAR(t.dot_f16_f32(n, x.data(), y.data()), ref, 1e-6 * mag + 1e-7) << kernels::isa_name(isa) << " n=" << n;

            auto acc = test::random_floats(n, rng);
            auto expect = acc;
            t.axpy_f16(n, 0.37f, x.data(), acc.data());
            for (int64_t i = 0; i < n; i++) {
                const double e = expect[size_t(i)] + 0.37 * fp16_to_fp32(x[size_t(i)]);
                EXPECT_NEAR(acc[size_t(i)], e, 1e-6 * (1 + std::fabs(e))) << kernels::isa_name(isa) << " n=" << n << " i=" << i;
            }
        }
    }
}
