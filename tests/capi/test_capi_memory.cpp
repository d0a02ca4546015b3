// The C ABI the WebAssembly binding uses: a model loaded from bytes in memory behaves as
// the same file loaded from its path (SHA-256, deterministic logits golden, compression
// containers), and step-wise generation equals lmx_generate.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../runtime/model_fixture.hpp"
#include "base/sha256.hpp"
#include "lmx/lmx.h"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

lmx_model* load_from_memory(const std::string& bytes) {
    void* data = lmx_alloc(bytes.size());
    std::memcpy(data, bytes.data(), bytes.size());
    lmx_model* m = nullptr;
    EXPECT_EQ(lmx_model_load_memory(data, bytes.size(), "smollm2 (memory)", &m), LMX_OK) << lmx_last_error();
    return m;
}

const char* kText =
    "The quick brown fox jumps over the lazy dog. In 1865, Lewis Carroll wrote about Alice, "
    "who fell down a rabbit hole; {\"json\": [1, 2.5, null]} and int main() { return 0; }";

TEST(CApiMemory, GarbageBytesFailWithAMessage) {
    const std::string junk = "not a gguf file";
    void* data = lmx_alloc(junk.size());
    std::memcpy(data, junk.data(), junk.size());
    lmx_model* m = nullptr;
    EXPECT_EQ(lmx_model_load_memory(data, junk.size(), "junk", &m), LMX_ERR_FAILED);  // data freed by the call
    EXPECT_NE(std::string(lmx_last_error()).find("junk"), std::string::npos) << lmx_last_error();
    EXPECT_EQ(lmx_model_load_memory(nullptr, 0, "x", &m), LMX_ERR_INVALID_ARGUMENT);
}

TEST(CApiMemory, SameHashLogitsAndContainersAsTheFile) {
    REQUIRE_DEFAULT_MODEL();
    const std::string bytes = read_file(lmx_default_model_path());
    lmx_model* m = load_from_memory(bytes);
    ASSERT_NE(m, nullptr);
    char hex[65];
    ASSERT_EQ(lmx_model_sha256(m, hex), LMX_OK);
    EXPECT_EQ(std::string(hex), lmx::sha256_hex(bytes.data(), bytes.size()));
    lmx_model_info_t info{};
    ASSERT_EQ(lmx_model_info(m, &info), LMX_OK);
    EXPECT_EQ(info.n_vocab, lmx_model_n_vocab(m));
    EXPECT_GT(info.n_layers, 0);

    // deterministic logits of every position, as tests/runtime/test_deterministic.cpp hashes them
    std::vector<int32_t> ids(256);
    size_t n = 0;
    ASSERT_EQ(lmx_tokenize(m, kText, std::strlen(kText), 1, 0, ids.data(), ids.size(), &n), LMX_OK);
    lmx_session* s = nullptr;
    ASSERT_EQ(lmx_session_create_ex(m, 2, 128, LMX_SESSION_DETERMINISTIC, &s), LMX_OK) << lmx_last_error();
    std::vector<float> logits(n * static_cast<size_t>(info.n_vocab));
    size_t n_out = 0;
    ASSERT_EQ(lmx_logits(s, ids.data(), n, 0, logits.data(), logits.size(), &n_out), LMX_OK) << lmx_last_error();
    ASSERT_EQ(n_out, logits.size());
    std::ifstream golden(std::string(LMX_SOURCE_DIR) + "/tests/goldens/deterministic/smollm2.sha256");
    std::string want;
    golden >> want;
    EXPECT_EQ(lmx::sha256_hex(logits.data(), logits.size() * sizeof(float)), want);
    std::vector<double> lp(n);
    ASSERT_EQ(lmx_logprobs(s, ids.data(), n, lp.data(), lp.size(), &n_out), LMX_OK) << lmx_last_error();
    EXPECT_EQ(n_out, n - 1);
    lmx_session_free(s);

    // compression: the container equals the one made by the path-loaded model, and round-trips
    lmx_model* from_path = nullptr;
    ASSERT_EQ(lmx_model_load(lmx_default_model_path(), &from_path), LMX_OK);
    const std::string data = "Hello, hello, hello! \xff\xfe binary too.";
    uint8_t *c1 = nullptr, *c2 = nullptr, *back = nullptr;
    size_t l1 = 0, l2 = 0, lb = 0;
    ASSERT_EQ(lmx_compress(m, data.data(), data.size(), 0, &c1, &l1), LMX_OK) << lmx_last_error();
    ASSERT_EQ(lmx_compress(from_path, data.data(), data.size(), 0, &c2, &l2), LMX_OK) << lmx_last_error();
    EXPECT_EQ(std::string(reinterpret_cast<char*>(c1), l1), std::string(reinterpret_cast<char*>(c2), l2));
    ASSERT_EQ(lmx_decompress(m, c2, l2, &back, &lb), LMX_OK) << lmx_last_error();
    EXPECT_EQ(std::string(reinterpret_cast<char*>(back), lb), data);
    c1[l1 - 1] ^= 0x5a;
    EXPECT_EQ(lmx_decompress(m, c1, l1, &back, &lb), LMX_ERR_FAILED);  // *back untouched on failure
    lmx_free(c1);
    lmx_free(c2);
    lmx_free(back);
    lmx_model_free(from_path);
    lmx_model_free(m);
}

std::string generate_text(lmx_model* m, const char* prompt, bool stepwise) {
    lmx_session* s = nullptr;
    EXPECT_EQ(lmx_session_create(m, 1, 256, &s), LMX_OK);
    lmx_generate_params p = lmx_generate_default_params();
    p.max_tokens = 16;
    p.temperature = 0;
    std::string out;
    if (stepwise) {
        lmx_generator* g = nullptr;
        EXPECT_EQ(lmx_generate_start(s, prompt, std::strlen(prompt), &p, &g), LMX_OK) << lmx_last_error();
        char buf[256];
        size_t len = 0;
        for (int32_t done = 0; !done;) {
            EXPECT_EQ(lmx_generate_next(g, buf, sizeof buf, &len, &done), LMX_OK) << lmx_last_error();
            out.append(buf, len);
        }
        lmx_generator_free(g);
    } else {
        auto cb = [](const char* text, size_t len, void* user) {
            static_cast<std::string*>(user)->append(text, len);
            return 1;
        };
        EXPECT_EQ(lmx_generate(s, prompt, std::strlen(prompt), &p, cb, &out), LMX_OK) << lmx_last_error();
    }
    lmx_session_free(s);
    return out;
}

TEST(CApiMemory, StepwiseGenerationEqualsGenerate) {
    REQUIRE_DEFAULT_MODEL();
    lmx_model* m = nullptr;
    ASSERT_EQ(lmx_model_load(lmx_default_model_path(), &m), LMX_OK) << lmx_last_error();
    const char* prompt = "The three primary colors are";
    const std::string want = generate_text(m, prompt, false);
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(generate_text(m, prompt, true), want);
    lmx_model_free(m);
}

}  // namespace
