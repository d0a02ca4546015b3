#pragma once
// Decoder-only transformer graphs built from GGUF weights. The builder reads the
// hyper-parameters by key (table-driven, per architecture) and emits one graph whose
// inputs are a batch of tokens and whose output is the logits of the tokens asked for.
#include <string>
#include <vector>

#include "base/weight_memory.hpp"
#include "formats/gguf.hpp"
#include "graph/ir.hpp"
#include "ops/ops.hpp"

namespace lmx::models {

struct DecoderConfig {
    std::string arch;
    int n_layers = 0, n_embd = 0, n_ff = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, n_rot = 0;
    int n_vocab = 0, n_ctx_train = 0;
    float rms_eps = 1e-5f, rope_base = 10000.0f;
    ops::RopeLayout rope_layout = ops::RopeLayout::adjacent_pairs;
    bool tied_output = false;  // the output head reuses token_embd
    bool qkv_bias = false;     // q, k and v projections add a bias (qwen2)
    float embd_scale = 1.0f;   // token embeddings are multiplied by it (gemma3: sqrt(n_embd))
    float attn_scale = 0;      // applied to q·k (1/sqrt(head_dim) unless the architecture says otherwise)
    // Interleaved local/global attention (gemma3): of every swa_period layers the last
    // is global, the others attend to the last sliding_window positions and rotate
    // with their own RoPE base. sliding_window 0: every layer is global.
    int sliding_window = 0, swa_period = 0;
    float rope_base_local = 0;

    bool is_local(int layer) const { return sliding_window > 0 && layer % swa_period < swa_period - 1; }
};

DecoderConfig read_decoder_config(const gguf::File& f);  // lmx::Error naming a missing key

// Graph inputs, in order: tokens i32[T], positions i32[T], seq_ids i32[T],
// output_rows i32[O] (indices into the batch). Output: logits f32[O, n_vocab].
struct DecoderGraph {
    DecoderConfig config;
    graph::Graph graph;
    // The matmul weights no packed layout takes (Q6_K, ...), copied out of the mapped file
    // into huge pages: the graph's constants point here.
    std::vector<WeightMemory> weight_copies;
};

DecoderGraph build_decoder(const gguf::File& f);

}  // namespace lmx::models
