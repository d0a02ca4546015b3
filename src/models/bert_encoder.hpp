#pragma once
// BERT-family encoder graphs (BERT, MiniLM, BGE) from HF safetensors weights and the
// hyper-parameters of the model's config.json. The graph embeds a batch of sequences
// laid back to back (no padding), runs the post-norm encoder blocks and pools one
// vector per sequence.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/safetensors.hpp"
#include "graph/ir.hpp"
#include "ops/ops.hpp"

namespace lmx::models {

struct EncoderConfig {
    int n_layers = 0, n_embd = 0, n_ff = 0, n_heads = 0;
    int n_vocab = 0, n_positions = 0, n_token_types = 0;
    float layer_norm_eps = 1e-12f;
};

// From config.json's text (model_type bert, absolute positions, gelu); name is for errors.
// Throws lmx::Error naming the key that is missing or unsupported.
EncoderConfig read_bert_config(std::string_view config_json, const std::string& name);

// Graph inputs, in order: tokens i32[T], positions i32[T] (0-based within each
// sequence), token_types i32[T], seq_starts i32[S]. Output: f32 [S, n_embd], pooled
// and, when normalize, L2-normalized.
struct EncoderGraph {
    EncoderConfig config;
    graph::Graph graph;
    std::vector<std::vector<float>> owned;  // weights converted to f32 (the graph points into them)
};

// Weights by HF BertModel names, with or without a "bert." prefix.
// bf16: also pack the dense layers' f32 weights as bf16 (ops::dense); 2 bytes a weight more.
std::unique_ptr<EncoderGraph> build_bert_encoder(const safetensors::File& weights, const EncoderConfig& config,
                                                 ops::Pooling pooling, bool normalize, bool bf16);

}  // namespace lmx::models
