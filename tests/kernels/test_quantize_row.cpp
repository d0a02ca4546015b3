// Activation quantizers: the scalar Q8_0 one against gguf's (ggml's quantize_row_q8_0_ref),
// every ISA byte-identical to scalar.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "base/fp16.hpp"
#include "kernels/kernels.hpp"
#include "random_rows.hpp"

using namespace lmx;
using namespace lmx::kernels;

namespace {

std::vector<uint8_t> quantize(const Table& t, DType act, const std::vector<float>& x) {
    std::vector<uint8_t> out(dtype_row_bytes(act, static_cast<int64_t>(x.size())));
    t.quantize[static_cast<int>(act)](x.data(), out.data(), static_cast<int64_t>(x.size()));
    return out;
}

}  // namespace

TEST(QuantizeRow, Q8_0MatchesGgufReference) {
    const std::string path = std::string(LMX_SOURCE_DIR) + "/tests/goldens/dequant/quantize_q8_0.bin";
    std::ifstream f(path, std::ios::binary);
    ASSERT_TRUE(f) << "missing " << path << ": run .venv/bin/python tools/gen_dequant_goldens.py";
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    uint32_t n;
    std::memcpy(&n, bytes.data(), 4);
    std::vector<float> x(n);
    std::memcpy(x.data(), bytes.data() + 4, 4 * size_t{n});
    const std::vector<uint8_t> want(bytes.begin() + 4 + 4 * n, bytes.end());
    for (Isa isa : available_isas())
        EXPECT_EQ(quantize(table(isa), DType::Q8_0, x), want) << isa_name(isa);
}

// The one documented departure from ggml's ref: ties round to even (like ggml's AVX2 path).
TEST(QuantizeRow, TiesRoundToEven) {
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f;  // d = 1, so x * id == x
    x[1] = 2.5f;
    x[2] = -3.5f;
    x[3] = 0.5f;
    for (Isa isa : available_isas()) {
        const std::vector<uint8_t> q = quantize(table(isa), DType::Q8_0, x);
        const auto* b = reinterpret_cast<const block_q8_0*>(q.data());
        EXPECT_EQ(fp16_to_fp32(b->d), 1.0f);
        EXPECT_EQ(b->qs[1], 2) << isa_name(isa);
        EXPECT_EQ(b->qs[2], -4) << isa_name(isa);
        EXPECT_EQ(b->qs[3], 0) << isa_name(isa);
    }
}

TEST(QuantizeRow, Q8_KScaleFollowsFirstLargestElement) {
    std::vector<float> x(256, 0.25f);
    x[10] = -2.0f;
    x[20] = 2.0f;
    for (Isa isa : available_isas()) {
        const std::vector<uint8_t> q = quantize(table(isa), DType::Q8_K, x);
        const auto* b = reinterpret_cast<const block_q8_K*>(q.data());
        EXPECT_FLOAT_EQ(b->d, 2.0f / 127) << isa_name(isa);  // -127 / max with max = -2
        EXPECT_EQ(b->qs[10], -127);
        EXPECT_EQ(b->qs[20], 127);
        EXPECT_EQ(b->bsums[0], 15 * 16 - 127);  // 0.25 * 63.5 = 15.875 -> 16, and x[10] -> -127
    }
}

class QuantizeIsa : public testing::TestWithParam<Isa> {};

TEST_P(QuantizeIsa, BytesIdenticalToScalar) {
    const Isa isa = GetParam();
    if (!test::available(isa)) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
    std::mt19937 rng(42);
    for (DType act : {DType::F32, DType::F16, DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
        for (int64_t blocks : {1, 2, 5}) {
            for (float scale : {1e-3f, 1.0f, 300.0f}) {
                std::vector<float> x = test::random_floats(blocks * 256, rng, scale);
                std::fill(x.begin(), x.begin() + 32, 0.0f);  // a zero block: d = 0
                EXPECT_EQ(quantize(table(isa), act, x), quantize(table(Isa::scalar), act, x))
                    << isa_name(isa) << " " << dtype_name(act) << " blocks " << blocks << " scale " << scale;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantizeIsa, testing::Values(Isa::avx2, Isa::avx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });
