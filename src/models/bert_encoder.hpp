#pragma once
// BERT-family encoder graphs (BERT, MiniLM, BGE) from HF safetensors weights and the
// hyper-parameters of the model's config.json, or from a GGUF file of architecture
// bert (f32, f16 or quantized matrices). The graph embeds a batch of sequences laid
// back to back (no padding), runs the post-norm encoder blocks and pools one vector
// per sequence.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.hpp"
#include "models/bert_weights.hpp"
#include "graph/ir.hpp"
#include "ops/ops.hpp"

namespace lmx::models {

struct EncoderConfig {
    int n_layers = 0, n_embd = 0, n_ff = 0, n_heads = 0;
    int n_vocab = 0, n_positions = 0;
    int n_token_types = 0;  // 0: no token-type embeddings (a GGUF file may leave them out)
    float layer_norm_eps = 1e-12f;
};

// From config.json's text (model_type bert, absolute positions, gelu); name is for errors.
// Throws lmx::Error naming the key that is missing or unsupported.
EncoderConfig read_bert_config(std::string_view config_json, const std::string& name);
// From a GGUF file's bert.* keys; throws lmx::Error naming a missing key or another architecture.
EncoderConfig read_bert_config(const gguf::File& f);

// Graph inputs, in order: tokens i32[T], positions i32[T] (0-based within each
// sequence), token_types i32[T], seq_starts i32[S]. Output: f32 [S, n_embd], pooled
// and, when normalize, L2-normalized.
struct EncoderGraph {
    EncoderConfig config;
    graph::Graph graph;
    std::vector<std::vector<float>> owned;  // weights converted to f32 (the graph points into them)
};

// bf16: also pack the dense layers' f32 weights as bf16 (ops::dense); 2 bytes a weight more.
// Quantized matrices (GGUF) run on the quantized matmul, repacked where the CPU has a
// packed GEMM for their type.
std::unique_ptr<EncoderGraph> build_bert_encoder(const EncoderWeights& weights, const EncoderConfig& config,
                                                 ops::Pooling pooling, bool normalize, bool bf16);

}  // namespace lmx::models
