// dequantize_row against goldens from the gguf Python package (tools/gen_dequant_goldens.py):
// bit-exact, because both follow ggml's operation order.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "tensor/dequantize.hpp"

using namespace lmx;

namespace {

struct Golden {
    DType type;
    int64_t n;
    std::vector<uint8_t> blocks;
    std::vector<float> expected;
};

Golden load_golden(const std::string& name) {
    const std::string path = std::string(LMX_SOURCE_DIR) + "/tests/goldens/dequant/" + name + ".bin";
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("missing golden ", path, ": run .venv/bin/python tools/gen_dequant_goldens.py");
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    uint32_t header[3];
    LMX_ASSERT(bytes.size() >= sizeof(header));
    std::memcpy(header, bytes.data(), sizeof(header));
    Golden g{static_cast<DType>(header[0]), header[1], {}, {}};
    const size_t off = sizeof(header), nbytes = header[2];
    LMX_ASSERT(bytes.size() == off + nbytes + 4 * static_cast<size_t>(g.n));
    g.blocks.assign(bytes.begin() + off, bytes.begin() + off + nbytes);
    g.expected.resize(static_cast<size_t>(g.n));
    std::memcpy(g.expected.data(), bytes.data() + off + nbytes, 4 * g.expected.size());
    return g;
}

class DequantizeGolden : public testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(DequantizeGolden, BitExact) {
    const Golden g = load_golden(GetParam());
    std::string name(dtype_name(g.type));
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    EXPECT_EQ(name, GetParam());
    ASSERT_EQ(dtype_row_bytes(g.type, g.n), g.blocks.size());
    std::vector<float> got(g.expected.size());
    dequantize_row(g.type, g.blocks.data(), got.data(), g.n);
    int mismatches = 0;
    for (size_t i = 0; i < got.size(); i++) {
        uint32_t a, b;
        std::memcpy(&a, &got[i], 4);
        std::memcpy(&b, &g.expected[i], 4);
        if (a != b && mismatches++ < 5)
            ADD_FAILURE() << dtype_name(g.type) << " element " << i << ": got " << got[i] << " want "
                          << g.expected[i];
    }
    EXPECT_EQ(mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantizeGolden,
                         testing::Values("f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                         "q8_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_k"),
                         [](const auto& info) { return std::string(info.param); });

TEST(Dequantize, UnsupportedTypeNamesIt) {
    const int32_t v[4] = {1, 2, 3, 4};
    float out[4];
    try {
        dequantize_row(DType::I32, v, out, 4);
        FAIL() << "expected lmx::Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("i32"), std::string::npos) << e.what();
    }
}

TEST(Dequantize, PartialBlockIsAnError) {
    const uint8_t blocks[18] = {};
    float out[32];
    EXPECT_THROW(dequantize_row(DType::Q4_0, blocks, out, 16), Error);
}
