#include "runtime/session.hpp"

#include <cstring>
#include <map>

#include "base/error.hpp"

namespace lmx {

static std::optional<ops::KvCache> make_cache(const Model& m, const SessionOptions& o) {
    if (o.n_ctx <= 0) fail("context size must be positive, got ", o.n_ctx);
    if (o.n_seq <= 0) fail("sequence slots must be positive, got ", o.n_seq);
    if (m.format() == Model::Format::onnx) return std::nullopt;
    const models::DecoderConfig& c = m.config();
    return ops::KvCache(c.n_layers, c.n_kv_heads, c.head_dim, o.n_seq, o.n_ctx);
}

static const kernels::Table& pick_kernels(const SessionOptions& o) {
    if (!o.deterministic) return o.isa ? kernels::table(*o.isa) : kernels::best_table();
    return kernels::deterministic_table(o.isa ? *o.isa : kernels::best_table().isa);
}

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& opts)
    : model_(std::move(model)),
      pool_(opts.n_threads > 0 ? opts.n_threads : hardware_threads()),
      kv_(make_cache(*model_, opts)),
      executor_(model_->graph()),
      kernels_(pick_kernels(opts)),
      ctx_{pool_, kernels_, kv_ ? &*kv_ : nullptr} {
    ctx_.deterministic = opts.deterministic;
    if (model_->format() == Model::Format::onnx) {
        if (opts.deterministic) fail("deterministic mode needs a GGUF model (", model_->path(), " is ONNX)");
        onnx_ = std::make_unique<OnnxDecoderState>(model_->graph(), model_->onnx_io(), opts.n_seq, opts.n_ctx);
    }
}

std::string_view Session::isa() const { return kernels::isa_name(kernels_.isa); }

const std::vector<float>& Session::decode(const Batch& b) {
    const int64_t n = static_cast<int64_t>(b.size());
    if (n == 0) fail("decode: empty batch");
    if (b.positions.size() != b.tokens.size() || b.seq_ids.size() != b.tokens.size() || b.want_logits.size() != b.tokens.size())
        fail("decode: batch fields have different lengths");
    if (onnx_) return decode_onnx(b);
    std::vector<int32_t> rows;
    for (int64_t i = 0; i < n; i++)
        if (b.want_logits[static_cast<size_t>(i)]) rows.push_back(static_cast<int32_t>(i));
    using graph::Tensor;
    auto i32 = [](const std::vector<int32_t>& v) {
        return Tensor{DType::I32, {static_cast<int64_t>(v.size())}, const_cast<int32_t*>(v.data())};
    };
    std::vector<Tensor> outs = executor_.run(ctx_, {i32(b.tokens), i32(b.positions), i32(b.seq_ids), i32(rows)});
    const Tensor& logits = outs.at(0);
    logits_.resize(static_cast<size_t>(logits.elements()));
    std::memcpy(logits_.data(), logits.data, logits_.size() * sizeof(float));
    return logits_;
}

// Each sequence's tokens (in batch order) run as one call; the logits rows asked for
// are then gathered in batch order, as the GGUF path returns them.
const std::vector<float>& Session::decode_onnx(const Batch& b) {
    const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
    std::map<int32_t, std::vector<size_t>> by_seq;  // seq -> batch indices
    for (size_t i = 0; i < b.size(); i++) by_seq[b.seq_ids[i]].push_back(i);
    std::vector<const float*> row_of(b.size(), nullptr);
    std::vector<std::vector<float>> seq_logits;
    seq_logits.reserve(by_seq.size());
    for (const auto& [seq, idx] : by_seq) {
        std::vector<int32_t> tokens;
        for (size_t k = 0; k < idx.size(); k++) {
            if (b.positions[idx[k]] != b.positions[idx[0]] + static_cast<int32_t>(k))
                fail("decode: the positions of sequence ", seq, " must be consecutive for an ONNX model");
            tokens.push_back(b.tokens[idx[k]]);
        }
        seq_logits.push_back(onnx_->run(ctx_, seq, b.positions[idx[0]], tokens));
        if (seq_logits.back().size() != tokens.size() * n_vocab)
            fail("the model's logits have ", seq_logits.back().size() / tokens.size(), " entries per token, its config says ", n_vocab);
        for (size_t k = 0; k < idx.size(); k++) row_of[idx[k]] = seq_logits.back().data() + k * n_vocab;
    }
    logits_.clear();
    for (size_t i = 0; i < b.size(); i++)
        if (b.want_logits[i]) logits_.insert(logits_.end(), row_of[i], row_of[i] + n_vocab);
    return logits_;
}

}  // namespace lmx
