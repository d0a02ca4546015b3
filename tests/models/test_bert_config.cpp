// BERT hyper-parameters from config.json: the keys lmx reads, and errors that name the
// key for configs it cannot run.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "models/bert_encoder.hpp"

using lmx::models::read_bert_config;

namespace {

const char* kMiniLm = R"({"model_type": "bert", "hidden_act": "gelu", "hidden_size": 384, "intermediate_size": 1536,
  "num_attention_heads": 12, "num_hidden_layers": 6, "vocab_size": 30522, "max_position_embeddings": 512,
  "type_vocab_size": 2, "layer_norm_eps": 1e-12, "position_embedding_type": "absolute"})";

std::string error_of(const std::string& json) {
    try {
        read_bert_config(json, "config.json");
    } catch (const lmx::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(BertConfig, ReadsMiniLm) {
    const auto c = read_bert_config(kMiniLm, "config.json");
    EXPECT_EQ(c.n_layers, 6);
    EXPECT_EQ(c.n_embd, 384);
    EXPECT_EQ(c.n_ff, 1536);
    EXPECT_EQ(c.n_heads, 12);
    EXPECT_EQ(c.n_vocab, 30522);
    EXPECT_EQ(c.n_positions, 512);
    EXPECT_EQ(c.n_token_types, 2);
    EXPECT_FLOAT_EQ(c.layer_norm_eps, 1e-12f);
}

TEST(BertConfig, NamesWhatItCannotRun) {
    auto with = [](const std::string& key, const std::string& value) {
        std::string s = kMiniLm;
        const size_t at = s.find("\"" + key + "\"");
        const size_t colon = s.find(':', at), end = s.find_first_of(",}", colon);
        return s.replace(colon + 1, end - colon - 1, " " + value);
    };
    EXPECT_NE(error_of(with("model_type", "\"xlm-roberta\"")).find("model_type 'xlm-roberta' is not supported"), std::string::npos);
    EXPECT_NE(error_of(with("hidden_act", "\"relu\"")).find("hidden_act 'relu'"), std::string::npos);
    EXPECT_NE(error_of(with("position_embedding_type", "\"rotary\"")).find("rotary"), std::string::npos);
    EXPECT_NE(error_of(with("num_hidden_layers", "-1")).find("num_hidden_layers"), std::string::npos);
    EXPECT_NE(error_of(with("num_attention_heads", "7")).find("not a multiple"), std::string::npos);
    EXPECT_NE(error_of("{\"model_type\": \"bert\"}").find("is missing"), std::string::npos);
    EXPECT_NE(error_of("not json").find("not a JSON object"), std::string::npos);
}
