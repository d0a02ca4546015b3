#include "runtime/session.hpp"

#include <cstring>

#include "base/error.hpp"

namespace lmx {

static ops::KvCache make_cache(const models::DecoderConfig& c, const SessionOptions& o) {
    if (o.n_ctx <= 0) fail("context size must be positive, got ", o.n_ctx);
    return ops::KvCache(c.n_layers, static_cast<int64_t>(c.n_kv_heads) * c.head_dim, o.n_seq, o.n_ctx);
}

static const kernels::Table& pick_kernels(const SessionOptions& o) {
    if (!o.deterministic) return o.isa ? kernels::table(*o.isa) : kernels::best_table();
    return kernels::deterministic_table(o.isa ? *o.isa : kernels::best_table().isa);
}

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& opts)
    : model_(std::move(model)),
      pool_(opts.n_threads > 0 ? opts.n_threads : hardware_threads()),
      kv_(make_cache(model_->config(), opts)),
      executor_(model_->graph()),
      kernels_(pick_kernels(opts)),
      ctx_{pool_, kernels_, &kv_} {
    ctx_.deterministic = opts.deterministic;
}

std::string_view Session::isa() const { return kernels::isa_name(kernels_.isa); }

const std::vector<float>& Session::decode(const Batch& b) {
    const int64_t n = static_cast<int64_t>(b.size());
    if (n == 0) fail("decode: empty batch");
    if (b.positions.size() != b.tokens.size() || b.seq_ids.size() != b.tokens.size() || b.want_logits.size() != b.tokens.size())
        fail("decode: batch fields have different lengths");
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

}  // namespace lmx
