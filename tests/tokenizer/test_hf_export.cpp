// The tokenizer.json / tokenizer_config.json written for a GGUF vocabulary
// (tokenizer/hf_export.hpp), loaded back through lmx's HF tokenizer, must give
// llama.cpp's ids: its test vectors (shared/testdata/llama-vocab .inp/.out: no BOS,
// special text not parsed) and the seeded random strings of
// tests/goldens/tokenizer/llama_vocab_random.json, including the gpt-2 vocabulary
// relabelled with the other pre-tokenizers. With LMX_HF_EXPORT_DIR set, the files are
// also written to $LMX_HF_EXPORT_DIR/<vocab>/ for tools/check_hf_export.py, which runs
// them through HF `tokenizers` itself.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tokenizer/hf_export.hpp"
#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

// The exported files of f, loaded by lmx's HF tokenizer (and written out when asked).
std::unique_ptr<Tokenizer> round_trip(const gguf::File& f, const std::string& name) {
    const std::string tokenizer_json = hf_tokenizer_json(f), config_json = hf_tokenizer_config_json(f);
    if (const char* dir = std::getenv("LMX_HF_EXPORT_DIR")) {
        const std::filesystem::path out = std::filesystem::path(dir) / name;
        std::filesystem::create_directories(out);
        std::ofstream(out / "tokenizer.json", std::ios::binary) << tokenizer_json;
        std::ofstream(out / "tokenizer_config.json", std::ios::binary) << config_json;
    }
    return Tokenizer::from_hf_json_text(tokenizer_json, config_json, name);
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (char& c : name)
        if (c == '-' || c == '+') c = '_';
    return name;
}

class HfExport : public ::testing::TestWithParam<std::string> {};

TEST_P(HfExport, TestVectorsMatchLlamaCpp) {
    const std::string path = test::llama_vocab_path(GetParam());
    const gguf::File f = gguf::File::open(path);
    const auto tok = round_trip(f, GetParam());
    const auto reference = Tokenizer::from_gguf(f);
    EXPECT_EQ(tok->bos_id(), reference->bos_id());
    EXPECT_EQ(tok->eos_id(), reference->eos_id());
    EXPECT_EQ(tok->adds_bos(), reference->adds_bos());
    EXPECT_EQ(tok->chat_template(), reference->chat_template());

    const std::vector<std::string> cases = test::read_cases(path + ".inp");
    const std::vector<std::vector<int32_t>> expected = test::read_ids(path + ".out");
    ASSERT_EQ(cases.size(), expected.size());
    ASSERT_GT(cases.size(), 40u);
    size_t pass = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::vector<int32_t> ids = tok->encode(cases[i], false, false);
        EXPECT_EQ(ids, expected[i]) << "case " << i << ": \"" << cases[i] << "\"";
        pass += ids == expected[i];
        // deepseek-coder's user-defined tokens are byte-level symbols ("ü" for "ü"): llama.cpp
        // prints their text, HF's ByteLevel decoder (and so lmx's) the byte they stand for.
        if (GetParam() != "deepseek-coder") {
            EXPECT_EQ(tok->decode(ids), cases[i]) << "case " << i;
        }
    }
    std::printf("%s: %zu/%zu test vectors match llama.cpp\n", GetParam().c_str(), pass, cases.size());
    // With BOS where the GGUF adds it.
    EXPECT_EQ(tok->encode("Hello world", true, true), reference->encode("Hello world", true, true));
}

INSTANTIATE_TEST_SUITE_P(Vocabs, HfExport, ::testing::Values("gpt-2", "mpt", "deepseek-coder", "llama-spm", "phi-3"),
                         param_name);

// The random strings, on the real vocabularies and on gpt-2 relabelled with each
// pre-tokenizer (which checks the Split regexes of every pre-tokenizer).
class HfExportRandom : public ::testing::TestWithParam<std::string> {};

TEST_P(HfExportRandom, RandomStringsMatchLlamaCpp) {
    const std::string name = GetParam();
    const size_t plus = name.find('+');
    const std::string bytes = plus == std::string::npos
                                  ? test::read_file(test::llama_vocab_path(name))
                                  : test::with_pre(test::read_file(test::llama_vocab_path("gpt-2")), name.substr(plus + 1));
    const gguf::File f = gguf::File::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
    const auto tok = round_trip(f, name);
    const nlohmann::json golden = nlohmann::json::parse(
        test::read_file(std::string(LMX_SOURCE_DIR) + "/tests/goldens/tokenizer/llama_vocab_random.json"));
    const auto& cases = golden.at("vocabs").at(name);
    ASSERT_GT(cases.size(), 50u);
    size_t pass = 0;
    for (const auto& c : cases) {
        const std::string text = c.at("text");
        const bool add_special = c.at("add_special"), parse_special = c.at("parse_special");
        const auto ids = tok->encode(text, add_special, parse_special);
        EXPECT_EQ(ids, c.at("ids").get<std::vector<int32_t>>())
            << "\"" << text << "\" add_special=" << add_special << " parse_special=" << parse_special;
        pass += ids == c.at("ids").get<std::vector<int32_t>>();
    }
    std::printf("%s: %zu/%zu random strings match llama.cpp\n", name.c_str(), pass, cases.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, HfExportRandom,
                         ::testing::Values("gpt-2", "mpt", "deepseek-coder", "gpt-2+default", "gpt-2+llama-bpe",
                                           "gpt-2+qwen2", "gpt-2+deepseek-coder", "gpt-2+smollm"),
                         param_name);

TEST(HfExport, SmolLM2MatchesTheGgufTokenizer) {
    const std::string path = test::default_model_path();
    if (path.empty()) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf not found";
    const gguf::File f = gguf::File::open(path);
    const auto tok = round_trip(f, "smollm2");
    const auto reference = Tokenizer::from_gguf(f);
    EXPECT_EQ(tok->bos_id(), reference->bos_id());
    EXPECT_EQ(tok->eos_id(), reference->eos_id());
    EXPECT_EQ(tok->chat_template(), reference->chat_template());
    std::vector<std::string> texts = test::read_cases(test::llama_vocab_path("gpt-2") + ".inp");
    texts.push_back("<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n<|im_start|>user\n"
                    "What is 12345 + 678?<|im_end|>\n<|im_start|>assistant\n");
    for (const std::string& text : texts)
        for (const bool parse_special : {false, true})
            EXPECT_EQ(tok->encode(text, true, parse_special), reference->encode(text, true, parse_special))
                << "\"" << text << "\" parse_special=" << parse_special;
}

TEST(HfExport, UnsupportedModelIsNamed) {
    const gguf::File f = gguf::File::open(test::llama_vocab_path("bert-bge"));
    try {
        hf_tokenizer_json(f);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'bert'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace lmx
