// The attention and SwiGLU kernels of every ISA against double-precision references (the
// deterministic tables' bits: test_deterministic_kernels.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "random_rows.hpp"

using namespace lmx;

namespace {
std::vector<uint16_t> random_halves(int64_t n, std::mt19937& rng, float scale = 1.0f) {
    std::vector<uint16_t> h;
    for (float x : test::random_floats(n, rng, scale)) h.push_back(fp32_to_fp16(x));
    return h;
}

std::vector<kernels::Isa> isas_here() {
    std::vector<kernels::Isa> isas;
    for (kernels::Isa isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512})
        if (test::available(isa)) isas.push_back(isa);
        else std::printf("[ SKIPPED ] %s not available on this CPU\n", std::string(kernels::isa_name(isa)).c_str());
    return isas;
}

// softmax(scale q_g · k_j) · v_j in double, two passes.
std::vector<double> reference_attention(int group, int hd, const std::vector<float>& q, const std::vector<uint16_t>& k,
                                        const std::vector<uint16_t>& v, int64_t stride, int64_t n, float scale) {
    std::vector<double> out(size_t(group * hd), 0.0);
    for (int g = 0; g < group; g++) {
        std::vector<double> s(static_cast<size_t>(n));
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < n; j++) {
            double d = 0;
            for (int i = 0; i < hd; i++) d += double(fp16_to_fp32(k[size_t(j * stride + i)])) * q[size_t(g * hd + i)];
            s[size_t(j)] = d * scale;
            mx = std::max(mx, s[size_t(j)]);
        }
        for (int64_t j = 0; j < n; j++) sum += (s[size_t(j)] = std::exp(s[size_t(j)] - mx));
        for (int64_t j = 0; j < n; j++)
            for (int i = 0; i < hd; i++) out[size_t(g * hd + i)] += s[size_t(j)] / sum * fp16_to_fp32(v[size_t(j * stride + i)]);
    }
    return out;
}
}  // namespace

TEST(AttentionKernels, AttendMatchesReferenceOnEveryIsa) {
    std::mt19937 rng(7);
    for (kernels::Isa isa : isas_here()) {
        const kernels::Table& t = kernels::table(isa);
        ASSERT_NE(t.attend_f16, nullptr) << kernels::isa_name(isa);
        // head sizes the SIMD kernels specialise and two that take the scalar reference;
        // peaked queries (scale 3) make the running maximum jump between blocks
        for (int hd : {64, 128, 256, 40})
            for (int group : {1, 3, 6})
                for (int64_t n : {1, 7, 16, 17, 40, 129})
                    for (float q_scale : {0.3f, 3.0f}) {
                        const int64_t stride = int64_t(hd) * 2 + 8;  // other kv heads between rows
                        auto k = random_halves(n * stride, rng), v = random_halves(n * stride, rng);
                        auto q = test::random_floats(int64_t(group) * hd, rng, q_scale);
                        const float scale = 1.0f / std::sqrt(float(hd));
                        std::vector<float> out(size_t(group * hd), NAN);
                        t.attend_f16(group, hd, q.data(), k.data(), v.data(), stride, n, scale, out.data());
                        const auto ref = reference_attention(group, hd, q, k, v, stride, n, scale);
                        for (size_t i = 0; i < out.size(); i++)
                            ASSERT_NEAR(out[i], ref[i], 4e-6 * (1 + std::fabs(ref[i])))
                                << kernels::isa_name(isa) << " hd=" << hd << " group=" << group << " n=" << n << " i=" << i;
                    }
    }
}

// The deterministic form (its bits: test_deterministic_kernels.cpp) is attention too.
TEST(AttentionKernels, AttendDetMatchesReference) {
    std::mt19937 rng(9);
    const kernels::Table& t = kernels::deterministic_table(kernels::Isa::scalar);
    for (int hd : {64, 40})
        for (int group : {1, 3})
            for (int64_t n : {1, 17, 129})
                for (float q_scale : {0.3f, 3.0f}) {
                    const int64_t stride = int64_t(hd) + 8;
                    auto k = random_halves(n * stride, rng), v = random_halves(n * stride, rng);
                    auto q = test::random_floats(int64_t(group) * hd, rng, q_scale);
                    const float scale = 1.0f / std::sqrt(float(hd));
                    std::vector<float> scores(size_t(group * n)), out(size_t(group * hd), NAN);
                    t.attend_det_f16(group, hd, q.data(), k.data(), v.data(), stride, n, scale, scores.data(), out.data());
                    const auto ref = reference_attention(group, hd, q, k, v, stride, n, scale);
                    for (size_t i = 0; i < out.size(); i++)
                        ASSERT_NEAR(out[i], ref[i], 4e-6 * (1 + std::fabs(ref[i]))) << "hd=" << hd << " group=" << group << " n=" << n << " i=" << i;
                }
}

TEST(AttentionKernels, SwigluMatchesReferenceOnEveryIsa) {
    std::mt19937 rng(11);
    for (kernels::Isa isa : isas_here()) {
        const kernels::Table& t = kernels::table(isa);
        for (int64_t n : {1, 7, 8, 16, 37, 1000}) {
            auto gate = test::random_floats(n, rng, 6.0f), up = test::random_floats(n, rng);
            gate[0] = -120.0f;  // e^120 overflows: silu is -0
            if (n > 1) gate[1] = 95.0f;
            if (n > 2) gate[2] = 0.0f;
            std::vector<float> y(static_cast<size_t>(n));
            t.swiglu(n, gate.data(), up.data(), y.data());
            for (int64_t i = 0; i < n; i++) {
                const double g = gate[size_t(i)], ref = g / (1 + std::exp(-g)) * up[size_t(i)];
                ASSERT_NEAR(y[size_t(i)], ref, 1e-6 * std::fabs(ref) + 1e-30) << kernels::isa_name(isa) << " n=" << n << " i=" << i;
            }
        }
    }
}
