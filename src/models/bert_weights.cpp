#include "models/bert_weights.hpp"

#include <array>
#include <string_view>
#include <utility>

#include "base/error.hpp"

namespace lmx::models {

namespace {

// HF BertModel module -> llama.cpp's tensor (gguf-py's TENSOR_NAMES for MODEL_ARCH.BERT).
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kEmbeddingNames = {{
    {"embeddings.word_embeddings", "token_embd"},
    {"embeddings.position_embeddings", "position_embd"},
    {"embeddings.token_type_embeddings", "token_types"},
    {"embeddings.LayerNorm", "token_embd_norm"},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kLayerNames = {{
    {"attention.self.query", "attn_q"},
    {"attention.self.key", "attn_k"},
    {"attention.self.value", "attn_v"},
    {"attention.output.dense", "attn_output"},
    {"attention.output.LayerNorm", "attn_output_norm"},
    {"intermediate.dense", "ffn_up"},
    {"output.dense", "ffn_down"},
    {"output.LayerNorm", "layer_output_norm"},
}};

// "encoder.layer.3.output.dense.weight" -> "blk.3.ffn_down.weight"; "" for a name that
// has no GGUF counterpart.
std::string gguf_name(std::string_view hf) {
    const size_t dot = hf.rfind('.');
    if (dot == std::string_view::npos) return "";
    const std::string_view module = hf.substr(0, dot), kind = hf.substr(dot);  // kind: ".weight" / ".bias"
    for (const auto& [from, to] : kEmbeddingNames)
        if (module == from) return std::string(to).append(kind);
    constexpr std::string_view layer = "encoder.layer.";
    if (module.substr(0, layer.size()) != layer) return "";
    const std::string_view rest = module.substr(layer.size());
    const size_t end = rest.find('.');
    if (end == std::string_view::npos) return "";
    for (const auto& [from, to] : kLayerNames)
        if (rest.substr(end + 1) == from)
            return std::string("blk.").append(rest.substr(0, end)).append(".").append(to).append(kind);
    return "";
}

}  // namespace

EncoderWeights::EncoderWeights(const safetensors::File& f) : st_(&f) {
    // Checkpoints saved from BertForXxx prefix the encoder's names with "bert."
    if (!f.tensor("embeddings.word_embeddings.weight") && f.tensor("bert.embeddings.word_embeddings.weight")) prefix_ = "bert.";
}

EncoderWeights::EncoderWeights(const gguf::File& f) : gguf_(&f) {
    if (f.tensor("blk.0.attn_qkv.weight"))
        fail(f.path(), ": q, k and v are fused into blk.N.attn_qkv; lmx reads BERT GGUF files with separate "
                       "attn_q, attn_k and attn_v (as convert_hf_to_gguf.py writes them)");
}

std::string EncoderWeights::file_name(const std::string& hf_name) const {
    return gguf_ ? gguf_name(hf_name) : prefix_ + hf_name;
}

const std::string& EncoderWeights::path() const { return gguf_ ? gguf_->path() : st_->path(); }

std::optional<EncoderWeight> EncoderWeights::find(const std::string& hf_name) const {
    const std::string name = file_name(hf_name);
    if (gguf_) {
        const gguf::TensorInfo* t = name.empty() ? nullptr : gguf_->tensor(name);
        if (!t) return std::nullopt;
        return EncoderWeight{t->name, t->dtype, graph::Dims(t->shape.rbegin(), t->shape.rend()), t->data, t->nbytes};
    }
    const safetensors::TensorInfo* t = st_->tensor(name);
    if (!t) return std::nullopt;
    return EncoderWeight{t->name, t->lmx_dtype(), t->shape, t->data, t->nbytes};
}

}  // namespace lmx::models
