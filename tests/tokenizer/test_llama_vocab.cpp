// llama.cpp's own tokenizer test vectors (shared/testdata/llama-vocab: no BOS, special
// text not parsed; byte-level BPE, SentencePiece and WordPiece vocabularies) and seeded
// random strings tokenized by llama.cpp
// (tests/goldens/tokenizer/llama_vocab_random.json, from tools/gen_tokenizer_goldens.py)
// must come out as exactly the same ids, and decode back to the input (except for
// WordPiece, which lowercases and strips accents). The gpt-2 vocab
// relabelled with other tokenizer.ggml.pre values covers the pre-tokenizers whose
// models are not at hand.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

nlohmann::json random_golden() {
    return nlohmann::json::parse(
        test::read_file(std::string(LMX_SOURCE_DIR) + "/tests/goldens/tokenizer/llama_vocab_random.json"));
}

void expect_golden_ids(const Tokenizer& tok, const nlohmann::json& cases) {
    ASSERT_GT(cases.size(), 50u);
    for (const auto& c : cases) {
        const std::string text = c.at("text");
        const bool add_special = c.at("add_special"), parse_special = c.at("parse_special");
        EXPECT_EQ(tok.encode(text, add_special, parse_special), c.at("ids").get<std::vector<int32_t>>())
            << "\"" << text << "\" add_special=" << add_special << " parse_special=" << parse_special;
    }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

class LlamaVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaVocab, TestVectorsMatchLlamaCpp) {
    const std::string path = test::llama_vocab_path(GetParam());
    const auto tok = test::load_tokenizer(path);
    const std::vector<std::string> cases = test::read_cases(path + ".inp");
    const std::vector<std::vector<int32_t>> expected = test::read_ids(path + ".out");
    ASSERT_EQ(cases.size(), expected.size());
    ASSERT_GT(cases.size(), 40u);
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::vector<int32_t> ids = tok->encode(cases[i], false, false);
        EXPECT_EQ(ids, expected[i]) << "case " << i << ": \"" << cases[i] << "\"";
        if (GetParam() != "bert-bge") {
            EXPECT_EQ(tok->decode(ids), cases[i]) << "case " << i;
        }
    }
}

class LlamaVocabRandom : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaVocabRandom, RandomStringsMatchLlamaCpp) {
    const auto tok = test::load_tokenizer(test::llama_vocab_path(GetParam()));
    expect_golden_ids(*tok, random_golden().at("vocabs").at(GetParam()));
}

class RelabelledGpt2 : public ::testing::TestWithParam<std::string> {};

TEST_P(RelabelledGpt2, MatchesLlamaCpp) {
    const auto tok = test::gpt2_vocab_with_pre(GetParam());
    expect_golden_ids(*tok, random_golden().at("vocabs").at("gpt-2+" + GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Pre, RelabelledGpt2,
                         ::testing::Values("default", "llama-bpe", "qwen2", "deepseek-coder", "smollm"), param_name);


INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaVocab,
                         ::testing::Values("gpt-2", "mpt", "deepseek-coder", "llama-spm", "phi-3", "bert-bge"),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaVocabRandom, ::testing::Values("gpt-2", "mpt", "deepseek-coder"), param_name);

}  // namespace
}  // namespace lmx
