#pragma once
// A Session runs a model over batches of tokens: it owns the KV cache (one slot per
// sequence), the thread pool and the executor's memory. ONNX decoder-with-past models
// run one sequence of the batch at a time, their past fed back by OnnxDecoderState.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "ops/kv_cache.hpp"
#include "runtime/model.hpp"

namespace lmx {

struct SessionOptions {
    int n_threads = 0;    // 0: all hardware threads
    int64_t n_ctx = 2048; // positions per sequence
    int n_seq = 1;        // sequence slots (concurrent sequences)
    std::optional<kernels::Isa> isa;  // default: the fastest this CPU runs (or $LMX_ISA)
    // Logits bit-identical on every ISA, thread count and platform (kernels::deterministic_table,
    // det_math's exp/sin/cos); the compressor depends on it. Slower than the fast path.
    bool deterministic = false;
};

// Tokens of possibly several sequences, each at its own position. Logits are
// computed only for the tokens with want_logits set, in batch order.
struct Batch {
    std::vector<int32_t> tokens, positions, seq_ids;
    std::vector<uint8_t> want_logits;
    void add(int32_t token, int32_t position, int32_t seq, bool logits) {
        tokens.push_back(token);
        positions.push_back(position);
        seq_ids.push_back(seq);
        want_logits.push_back(logits ? 1 : 0);
    }
    size_t size() const { return tokens.size(); }
    void clear() { *this = Batch{}; }
};

class Session {
public:
    Session(std::shared_ptr<const Model> model, const SessionOptions& opts);

    // Runs the batch; returns n_outputs × n_vocab logits (row i for the i-th token that wanted logits).
    const std::vector<float>& decode(const Batch& batch);

    const Model& model() const { return *model_; }
    int n_threads() const { return pool_.size(); }
    int64_t n_ctx() const { return onnx_ ? onnx_->n_ctx() : kv_->n_ctx(); }
    size_t kv_bytes() const { return onnx_ ? onnx_->bytes() : kv_->bytes(); }
    size_t arena_bytes() const { return executor_.arena_bytes(); }
    std::string_view isa() const;
    bool deterministic() const { return ctx_.deterministic; }
    // Per-op wall time of every following decode is added to *profile (nullptr: off).
    void set_profile(std::map<std::string, graph::ExecContext::OpTime>* profile) { ctx_.profile = profile; }

private:
    const std::vector<float>& decode_onnx(const Batch& batch);

    std::shared_ptr<const Model> model_;
    ThreadPool pool_;
    std::optional<ops::KvCache> kv_;  // GGUF models; ONNX models keep their past in onnx_
    graph::Executor executor_;
    std::unique_ptr<OnnxDecoderState> onnx_;
    const kernels::Table& kernels_;
    graph::ExecContext ctx_;
    std::vector<float> logits_;
};

}  // namespace lmx
