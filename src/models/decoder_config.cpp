#include "base/error.hpp"
#include "models/decoder.hpp"

namespace lmx::models {

static const char* kSupported[] = {"llama"};

DecoderConfig read_decoder_config(const gguf::File& f) {
    DecoderConfig c;
    c.arch = f.get_string("general.architecture");
    bool known = false;
    for (const char* a : kSupported) known |= c.arch == a;
    if (!known) fail("model architecture '", c.arch, "' is not supported yet (supported: llama)");
    auto key = [&](const char* k) { return c.arch + "." + k; };
    auto positive = [&](const char* k) {
        int64_t v = f.get_int(key(k));
        if (v <= 0 || v > (1 << 24)) fail(f.path(), ": ", key(k), " = ", v, " is out of range");
        return static_cast<int>(v);
    };
    c.n_layers = positive("block_count");
    c.n_embd = positive("embedding_length");
    c.n_ff = positive("feed_forward_length");
    c.n_heads = positive("attention.head_count");
    c.n_kv_heads = f.has(key("attention.head_count_kv")) ? positive("attention.head_count_kv") : c.n_heads;
    c.n_ctx_train = positive("context_length");
    if (c.n_embd % c.n_heads != 0) fail(f.path(), ": embedding length ", c.n_embd, " not divisible by ", c.n_heads, " heads");
    c.head_dim = f.has(key("attention.key_length")) ? positive("attention.key_length") : c.n_embd / c.n_heads;
    c.n_rot = f.has(key("rope.dimension_count")) ? positive("rope.dimension_count") : c.head_dim;
    c.rms_eps = static_cast<float>(f.get_float(key("attention.layer_norm_rms_epsilon"), 1e-5));
    c.rope_base = static_cast<float>(f.get_float(key("rope.freq_base"), 10000.0));
    const gguf::TensorInfo* embd = f.tensor("token_embd.weight");
    if (!embd || embd->shape.size() != 2) fail(f.path(), ": tensor token_embd.weight is missing or not 2-D");
    c.n_vocab = static_cast<int>(embd->shape[1]);
    c.tied_output = f.tensor("output.weight") == nullptr;
    return c;
}

}  // namespace lmx::models
