// Hyper-parameters from GGUF metadata, and the table of architectures: which keys
// each reads beyond the common ones, its RoPE layout and its graph builder.
#include <cmath>

#include "base/error.hpp"
#include "models/graph_builder.hpp"
#include "ops/passes.hpp"

namespace lmx::models {

namespace {

class Keys {
public:
    Keys(const gguf::File& f, const std::string& arch) : f_(f), arch_(arch) {}
    std::string key(const char* k) const { return arch_ + "." + k; }
    bool has(const char* k) const { return f_.has(key(k)); }
    int positive(const char* k) const {
        int64_t v = f_.get_int(key(k));
        if (v <= 0 || v > (1 << 24)) fail(f_.path(), ": ", key(k), " = ", v, " is out of range");
        return static_cast<int>(v);
    }
    float real(const char* k, double def) const { return static_cast<float>(f_.get_float(key(k), def)); }
    [[noreturn]] void unsupported(const char* k, const char* what) const {
        fail(f_.path(), ": ", key(k), " is set: ", what, " is not supported yet for architecture ", arch_);
    }

private:
    const gguf::File& f_;
    const std::string& arch_;
};

void llama_keys(const Keys&, DecoderConfig&) {}

void qwen2_keys(const Keys&, DecoderConfig& c) { c.qkv_bias = true; }

// As llama.cpp's LLM_ARCH_GEMMA3 hyper-parameters: five local layers (sliding window,
// RoPE base 10000) then one global layer (the file's RoPE base), repeating.
void gemma3_keys(const Keys& k, DecoderConfig& c) {
    if (!k.has("attention.sliding_window"))
        fail(k.key("attention.sliding_window"), " is missing: gemma3 without sliding-window layers is not supported yet");
    c.sliding_window = k.positive("attention.sliding_window");
    c.swa_period = 6;
    c.rope_base_local = 10000.0f;
    c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
    // gemma3-27B (62 layers) scales queries by 1/sqrt(n_embd / n_heads), the others by 1/sqrt(head_dim)
    if (c.n_layers == 62) c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_heads));
    if (k.has("final_logit_softcapping")) k.unsupported("final_logit_softcapping", "logit soft-capping");
}

struct Arch {
    const char* name;
    ops::RopeLayout rope_layout;
    void (*read_keys)(const Keys&, DecoderConfig&);
    void (*build)(const gguf::File&, DecoderGraph&);
};

const Arch kArchs[] = {
    {"llama", ops::RopeLayout::adjacent_pairs, llama_keys, build_llama},
    {"qwen2", ops::RopeLayout::neox_halves, qwen2_keys, build_llama},
    {"gemma3", ops::RopeLayout::neox_halves, gemma3_keys, build_gemma3},
};

const Arch& find_arch(const std::string& name) {
    std::string known;
    for (const Arch& a : kArchs) {
        if (name == a.name) return a;
        known.append(known.empty() ? "" : ", ").append(a.name);
    }
    fail("model architecture '", name, "' is not supported yet (supported: ", known, ")");
}

}  // namespace

DecoderConfig read_decoder_config(const gguf::File& f) {
    DecoderConfig c;
    c.arch = f.get_string("general.architecture");
    const Arch& arch = find_arch(c.arch);
    const Keys k(f, c.arch);
    c.n_layers = k.positive("block_count");
    c.n_embd = k.positive("embedding_length");
    c.n_ff = k.positive("feed_forward_length");
    c.n_heads = k.positive("attention.head_count");
    c.n_kv_heads = k.has("attention.head_count_kv") ? k.positive("attention.head_count_kv") : c.n_heads;
    c.n_ctx_train = k.positive("context_length");
    if (c.n_embd % c.n_heads != 0) fail(f.path(), ": embedding length ", c.n_embd, " not divisible by ", c.n_heads, " heads");
    c.head_dim = k.has("attention.key_length") ? k.positive("attention.key_length") : c.n_embd / c.n_heads;
    if (k.has("attention.value_length") && k.positive("attention.value_length") != c.head_dim)
        k.unsupported("attention.value_length", "a value head size different from the key head size");
    c.n_rot = k.has("rope.dimension_count") ? k.positive("rope.dimension_count") : c.head_dim;
    c.rms_eps = k.real("attention.layer_norm_rms_epsilon", 1e-5);
    c.rope_base = k.real("rope.freq_base", 10000.0);
    // linear scaling by 1 (or none) is the identity; anything else would need position scaling we lack
    const std::string rope_scaling = f.get_string(k.key("rope.scaling.type"), "none");
    if (rope_scaling != "none" && rope_scaling != "linear") k.unsupported("rope.scaling.type", "RoPE scaling other than linear");
    if (k.real("rope.scaling.factor", 1.0) != 1.0f) k.unsupported("rope.scaling.factor", "RoPE scaling");
    c.rope_layout = arch.rope_layout;
    c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    const gguf::TensorInfo* embd = f.tensor("token_embd.weight");
    if (!embd || embd->shape.size() != 2) fail(f.path(), ": tensor token_embd.weight is missing or not 2-D");
    c.n_vocab = static_cast<int>(embd->shape[1]);
    c.tied_output = f.tensor("output.weight") == nullptr;
    arch.read_keys(k, c);
    return c;
}

DecoderGraph build_decoder(const gguf::File& f) {
    DecoderGraph out;
    out.config = read_decoder_config(f);
    find_arch(out.config.arch).build(f, out);
    ops::fuse_decoder(out.graph);
    return out;
}

}  // namespace lmx::models
