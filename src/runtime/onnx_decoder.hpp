#pragma once
// ONNX decoder-with-past models (transformers.js / optimum exports, onnxruntime-genai,
// `lmx export`): the graph's inputs input_ids [batch, seq] (+ attention_mask
// [batch, total], position_ids [batch, seq] when present, past_key_values.N.key/value
// [batch, kv_heads, past, head_dim]) and outputs logits [batch, seq, vocab] (+
// present.N.key/value), recognized by name. The past lives outside the graph: one
// buffer per layer, key and value, per sequence slot, fed back after each run.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/executor.hpp"
#include "models/onnx/onnx_import.hpp"

namespace lmx {

// Where each role sits among the graph's inputs and outputs.
struct OnnxDecoderIO {
    int input_ids = -1, attention_mask = -1, position_ids = -1;
    std::vector<int> past_key, past_value;  // per layer, graph input index
    int logits = -1;
    std::vector<int> present_key, present_value;  // per layer, graph output index
    DType kv_dtype = DType::F32;
    int64_t kv_heads = 0, head_dim = 0;  // 0: taken from config.json
    int n_layers() const { return static_cast<int>(past_key.size()); }
};

// Throws lmx::Error naming what the graph lacks, or an input it cannot feed.
OnnxDecoderIO detect_decoder_io(const graph::Graph& g);

// The past key/values of every sequence slot, and running the graph for one sequence.
class OnnxDecoderState {
public:
    OnnxDecoderState(const graph::Graph& g, const OnnxDecoderIO& io, int n_seq, int64_t n_ctx);

    // Runs the tokens of one sequence starting at position `pos` (<= its cached length;
    // shorter rewinds the cache). Returns the logits [tokens.size(), n_vocab] as f32.
    const std::vector<float>& run(graph::ExecContext& ctx, int seq, int64_t pos, const std::vector<int32_t>& tokens);

    size_t bytes() const;
    int64_t n_ctx() const { return n_ctx_; }

private:
    void truncate(int seq, int64_t len);

    const graph::Graph& graph_;
    graph::Executor exec_;
    const OnnxDecoderIO& io_;
    int64_t n_ctx_;
    // One layer's key or value cache, [1, kv_heads, len, head_dim] at data: the last run's
    // `present` output, whose memory the executor handed over (or a copy of it).
    struct Past {
        std::vector<uint8_t> storage;
        const uint8_t* data = nullptr;
    };
    struct Slot {
        int64_t len = 0;
        std::vector<Past> past;  // 2 per layer (key, value)
    };
    std::vector<Slot> slots_;
    std::vector<float> logits_;
};

}  // namespace lmx
