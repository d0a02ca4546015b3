// BERT hyper-parameters from an HF config.json or from a GGUF file's metadata.
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "models/bert_encoder.hpp"

namespace lmx::models {

using nlohmann::json;

EncoderConfig read_bert_config(std::string_view config_json, const std::string& name) {
    const json j = json::parse(config_json.begin(), config_json.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) fail(name, ": not a JSON object");
    auto str = [&](const char* key, const char* def) {
        if (!j.contains(key)) return std::string(def);
        if (!j.at(key).is_string()) fail(name, ": ", key, " must be a string");
        return j.at(key).get<std::string>();
    };
    auto positive = [&](const char* key) {
        if (!j.contains(key)) fail(name, ": ", key, " is missing");
        const json& v = j.at(key);
        if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (1 << 24))
            fail(name, ": ", key, " = ", v.dump(), " is not a positive integer in range");
        return static_cast<int>(v.get<int64_t>());
    };
    const std::string type = str("model_type", "");
    if (type != "bert")
        fail(name, ": model_type '", type, "' is not supported; lmx runs BERT-family encoders (model_type bert)");
    if (const std::string act = str("hidden_act", "gelu"); act != "gelu")
        fail(name, ": hidden_act '", act, "' is not supported (BERT's erf gelu is)");
    if (const std::string pos = str("position_embedding_type", "absolute"); pos != "absolute")
        fail(name, ": position_embedding_type '", pos, "' is not supported (absolute is)");
    EncoderConfig c;
    c.n_layers = positive("num_hidden_layers");
    c.n_embd = positive("hidden_size");
    c.n_ff = positive("intermediate_size");
    c.n_heads = positive("num_attention_heads");
    c.n_vocab = positive("vocab_size");
    c.n_positions = positive("max_position_embeddings");
    c.n_token_types = j.contains("type_vocab_size") ? positive("type_vocab_size") : 2;
    if (c.n_embd % c.n_heads) fail(name, ": hidden_size ", c.n_embd, " is not a multiple of num_attention_heads ", c.n_heads);
    if (j.contains("layer_norm_eps")) {
        if (!j.at("layer_norm_eps").is_number()) fail(name, ": layer_norm_eps must be a number");
        c.layer_norm_eps = j.at("layer_norm_eps").get<float>();
    }
    return c;
}

EncoderConfig read_bert_config(const gguf::File& f) {
    const std::string arch = f.get_string("general.architecture");
    if (arch != "bert")
        fail(f.path(), ": architecture '", arch, "' is not an encoder lmx runs (bert; decoders run with lmx run/chat)");
    if (f.get_bool("bert.attention.causal", false)) fail(f.path(), ": bert.attention.causal is set; a BERT encoder attends both ways");
    auto positive = [&](const std::string& key) {
        const int64_t v = f.get_int(key);
        if (v <= 0 || v > (1 << 24)) fail(f.path(), ": ", key, " = ", v, " is out of range");
        return static_cast<int>(v);
    };
    // Sizes the metadata does not state are the tables' rows (as llama.cpp reads them).
    auto rows = [&](const char* name) {
        const gguf::TensorInfo* t = f.tensor(name);
        return t && t->shape.size() == 2 ? static_cast<int>(t->shape[1]) : 0;
    };
    EncoderConfig c;
    c.n_layers = positive("bert.block_count");
    c.n_embd = positive("bert.embedding_length");
    c.n_ff = positive("bert.feed_forward_length");
    c.n_heads = positive("bert.attention.head_count");
    c.n_positions = positive("bert.context_length");
    c.n_vocab = rows("token_embd.weight");
    if (c.n_vocab <= 0) fail(f.path(), ": token_embd.weight is missing or not a matrix");
    c.n_token_types = rows("token_types.weight");  // 0: the model has no token-type embeddings
    c.layer_norm_eps = static_cast<float>(f.get_float("bert.attention.layer_norm_epsilon"));
    if (c.n_embd % c.n_heads) fail(f.path(), ": embedding length ", c.n_embd, " is not a multiple of ", c.n_heads, " heads");
    return c;
}

}  // namespace lmx::models
