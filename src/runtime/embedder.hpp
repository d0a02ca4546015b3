#pragma once
// Texts -> vectors with a BERT-family encoder, from either
//  * an HF / sentence-transformers model folder: config.json + model.safetensors +
//    tokenizer.json, and when present modules.json (pooling module path, Normalize),
//    <pooling>/config.json (mean / CLS / last-token) and sentence_bert_config.json
//    (max_seq_length); or
//  * a GGUF file of architecture bert, as llama.cpp runs it: its WordPiece vocabulary,
//    bert.pooling_type, bert.context_length tokens, and L2-normalized vectors by default
//    (llama.cpp's embedding default); or
//  * an ONNX export (runtime/onnx_encoder.hpp): a folder with onnx/model.onnx or
//    model.onnx, or the .onnx file, with tokenizer.json and the sentence-transformers
//    configs beside it (or one level up, for onnx/model.onnx); texts run padded to the
//    longest of their batch, and batches are formed from texts of similar length.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/thread_pool.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "graph/exec_context.hpp"
#include "graph/executor.hpp"
#include "models/bert_encoder.hpp"
#include "runtime/onnx_encoder.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lmx {

struct EmbedderOptions {
    std::optional<ops::Pooling> pooling;  // default: the model's pooling config
    std::optional<bool> normalize;        // default: whether modules.json lists Normalize (GGUF: yes)
    int max_length = 0;                   // tokens per text, specials included; 0: the model's
    int n_threads = 0;                    // 0: all hardware threads
    int64_t batch_tokens = 4096;          // tokens per forward pass (texts are never split)
    bool f32 = false;  // multiply in f32 even where the CPU has native bf16 products (see ops::dense)
};

// The pooling mode a name selects ("mean", "cls", "last"); throws naming the choices.
ops::Pooling parse_pooling(const std::string& name);

// A model named NAME resolves to $LMX_HOME/NAME when that folder or file exists, else
// NAME is a path; throws lmx::Error when neither exists.
std::string embedding_model_path(const std::string& model);

// Whether path is something Embedder loads: an HF model folder with model.safetensors, a
// GGUF file of architecture bert, or an ONNX export whose graph has an encoder's inputs
// and outputs.
bool is_embedding_model(const std::string& path);

class Embedder {
public:
    // path: a model folder, a GGUF file or an ONNX export (see above). Throws lmx::Error
    // naming the missing or bad file.
    Embedder(const std::string& path, const EmbedderOptions& opts);

    // One vector per text, in order. A text longer than max_length() tokens is cut to it
    // (its last special token kept) and on_truncate, when set, is told its index and length.
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts,
                                          const std::function<void(size_t index, size_t n_tokens)>& on_truncate = {});
    // The token ids embed() would run for text, truncated to max_length().
    std::vector<int32_t> tokenize(const std::string& text, size_t* untruncated = nullptr) const;

    const Tokenizer& tokenizer() const { return *tokenizer_; }
    int dims() const { return dims_; }
    int max_length() const { return max_length_; }
    ops::Pooling pooling() const { return pooling_; }
    bool normalize() const { return normalize_; }
    int n_threads() const { return pool_.size(); }
    // Identifies the weights and the settings that change the vectors, e.g.
    // "all-minilm-l6-v2:mean:norm:2d1f…" (folder or file name, pooling, normalization, and
    // the SHA256 prefix of the weights' names, shapes and first 64 KiB per tensor).
    const std::string& model_id() const { return model_id_; }

private:
    void run_batch(const std::vector<std::vector<int32_t>>& seqs, size_t first, size_t last, std::vector<std::vector<float>>& out);
    // An ONNX export's batch: the texts at order[first, last), padded together.
    void run_onnx_batch(const std::vector<std::vector<int32_t>>& seqs, const std::vector<size_t>& order, size_t first, size_t last,
                        std::vector<std::vector<float>>& out);

    std::unique_ptr<safetensors::File> safetensors_;  // a model folder's weights, or
    std::unique_ptr<gguf::File> gguf_;                // a GGUF file's
    std::unique_ptr<Tokenizer> tokenizer_;
    ops::Pooling pooling_ = ops::Pooling::mean;
    bool normalize_ = false;
    int max_length_ = 0;
    int dims_ = 0;
    int64_t batch_tokens_ = 0;
    size_t n_prefix_ = 0, n_suffix_ = 0;  // special tokens the tokenizer adds around a text
    std::string model_id_;
    std::unique_ptr<models::EncoderGraph> graph_;  // the native graph (folder, GGUF), or
    std::unique_ptr<OnnxEncoder> onnx_;            // an ONNX export, whose states
    graph::Graph pooling_graph_;                   // this pools (and normalizes)
    ThreadPool pool_;
    graph::ExecContext ctx_;
    std::unique_ptr<graph::Executor> executor_;    // graph_'s or pooling_graph_'s
};

}  // namespace lmx
