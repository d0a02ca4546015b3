// safetensors reader: a fixture written by HF's `safetensors` package
// (tools/gen_embedding_goldens.py safetensors) reads back exactly, and every kind of
// corruption throws lmx::Error naming the problem instead of reading out of bounds.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "formats/safetensors.hpp"

using lmx::safetensors::File;

namespace {

// A file from a header JSON and a data section: the 8-byte little-endian size, then both.
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes) {
    std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
    uint64_t n = header.size();
    for (int i = 0; i < 8; i++) b[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
    std::memcpy(b.data() + 8, header.data(), header.size());
    return b;
}

std::string parse_error(const std::vector<uint8_t>& b) {
    try {
        File::parse(b.data(), b.size(), "t.safetensors");
    } catch (const lmx::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Safetensors, ReadsFixtureWrittenByTheSafetensorsPackage) {
    File f = File::open(LMX_SOURCE_DIR "/tests/data/safetensors/fixture.safetensors");
    ASSERT_EQ(f.tensors().size(), 6u);
    EXPECT_EQ(f.metadata().at("format"), "np");
    EXPECT_EQ(f.metadata().at("note"), "lmx fixture");

    const auto* w = f.tensor("embeddings.word_embeddings.weight");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->dtype, "F32");
    EXPECT_EQ(w->shape, (std::vector<int64_t>{5, 4}));
    EXPECT_EQ(w->lmx_dtype(), lmx::DType::F32);
    ASSERT_EQ(w->nbytes, 80u);
    for (int i = 0; i < 20; i++) {
        float v;
        std::memcpy(&v, w->data + 4 * i, 4);
        EXPECT_EQ(v, static_cast<float>(i) / 4 - 1) << i;
    }

    const auto* b = f.tensor("encoder.layer.0.attention.self.query.bias");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->lmx_dtype(), lmx::DType::F16);
    const float want[] = {0.5f, -1.0f, 2.0f, 65504.0f};
    for (int i = 0; i < 4; i++) {
        uint16_t h;
        std::memcpy(&h, b->data + 2 * i, 2);
        EXPECT_EQ(lmx::fp16_to_fp32(h), want[i]);
    }

    const auto* ids = f.tensor("position_ids");
    ASSERT_NE(ids, nullptr);
    EXPECT_EQ(ids->lmx_dtype(), lmx::DType::I64);
    int64_t last;
    std::memcpy(&last, ids->data + 40, 8);
    EXPECT_EQ(last, 5);

    EXPECT_TRUE(f.tensor("scalar")->shape.empty());
    EXPECT_EQ(f.tensor("scalar")->elements(), 1);
    EXPECT_EQ(f.tensor("empty")->nbytes, 0u);
    EXPECT_EQ(f.tensor("mask")->dtype, "BOOL");
    EXPECT_THROW(f.tensor("mask")->lmx_dtype(), lmx::Error);
    EXPECT_EQ(f.tensor("missing"), nullptr);
}

TEST(Safetensors, RejectsCorruptFiles) {
    const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    EXPECT_EQ(parse_error(make_file(ok, 8)), "");

    std::vector<uint8_t> tiny = {1, 2, 3};
    EXPECT_NE(parse_error(tiny).find("shorter than the 8-byte header size"), std::string::npos);

    std::vector<uint8_t> huge_header = make_file(ok, 8);
    huge_header[7] = 0x7f;
    EXPECT_NE(parse_error(huge_header).find("does not fit in the file"), std::string::npos);

    EXPECT_NE(parse_error(make_file("[1,2]", 0)).find("not a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(make_file("{\"a\":", 0)).find("not a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(make_file(ok, 4)).find("outside the data section"), std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)).find("needs 12"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8)).find("unknown dtype 'Q4'"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)).find("non-negative"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)).find("outside"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8)).find("data_offsets"), std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"I8","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8))
                  .find("larger than the file"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                    8))
                  .find("overlap"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"__metadata__":{"k":1}})", 0)).find("must be a string"), std::string::npos);
}
