// The BERT encoder as HF's BertModel computes it: word + position + token-type
// embeddings → LayerNorm, then post-norm blocks of self-attention → add → LayerNorm,
// dense → gelu → dense → add → LayerNorm; then the sentence-transformers pooling.
#include <cmath>
#include <cstring>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "models/bert_encoder.hpp"
#include "models/graph_builder.hpp"
#include "kernels/kernels.hpp"
#include "ops/ops.hpp"
#include "tensor/dequantize.hpp"

namespace lmx::models {

using graph::ValueId;

namespace {

class BertBuilder {
public:
    BertBuilder(const EncoderWeights& w, EncoderGraph& out, bool bf16) : w_(w), out_(out), g_(out.graph), c_(out.config), bf16_(bf16) {}

    void build(ops::Pooling pooling, bool normalize) {
        const int64_t d = c_.n_embd;
        const ValueId tokens = g_.add_input("tokens", DType::I32, {graph::kTokens});
        const ValueId positions = g_.add_input("positions", DType::I32, {graph::kTokens});
        const ValueId types = g_.add_input("token_types", DType::I32, {graph::kTokens});
        const ValueId starts = g_.add_input("seq_starts", DType::I32, {graph::kOutputs});

        const auto embed = ops::embed(), add = ops::add(), ln = ops::layer_norm(c_.layer_norm_eps);
        ValueId x = g_.add(embed, {table("embeddings.word_embeddings.weight", c_.n_vocab), tokens}, "word_embd");
        x = g_.add(add, {x, g_.add(embed, {table("embeddings.position_embeddings.weight", c_.n_positions), positions}, "pos_embd")},
                   "embd_pos");
        if (c_.n_token_types > 0)
            x = g_.add(add, {x, g_.add(embed, {table("embeddings.token_type_embeddings.weight", c_.n_token_types), types}, "type_embd")},
                       "embd");
        x = g_.add(ln, {x, vec("embeddings.LayerNorm.weight", d), vec("embeddings.LayerNorm.bias", d)}, "embd_norm");

        const int hd = c_.n_embd / c_.n_heads;
        const auto attn = ops::encoder_attention({c_.n_heads, hd, 1.0f / std::sqrt(static_cast<float>(hd))});
        for (int il = 0; il < c_.n_layers; il++) {
            std::string w = "encoder.layer.";
            w += std::to_string(il);
            w += '.';
            std::string p = "l";
            p += std::to_string(il);
            p += '.';
            auto dense = [&](ValueId h, const std::string& name, int64_t n, int64_t k, bool gelu = false) {
                const EncoderWeight t = find(w + name + ".weight", {n, k});
                const ValueId bias = vec(w + name + ".bias", n);
                if (!stays_in_file(t)) {
                    const ValueId w32 = panels(t, n, k);
                    std::shared_ptr<std::vector<uint32_t>> w16;
                    if (bf16_) {
                        w16 = std::make_shared<std::vector<uint32_t>>(static_cast<size_t>(kernels::f32_panels(n) * ((k + 1) / 2) * kernels::kF32Panel));
                        kernels::pack_bf16_panels(static_cast<const float*>(g_.value(w32).data), n, k, w16->data());
                    }
                    return g_.add(ops::dense(n, gelu, std::move(w16)), {h, w32, bias}, p + name);
                }
                const ValueId wv = g_.add_constant(t.name, t.dtype, {n, k}, t.data);
                const ValueId y = g_.add(ops::matmul(pack_weight(g_.value(wv))), {h, wv, bias}, p + name);
                return gelu ? g_.add(ops::gelu(), {y}, p + name + ".gelu") : y;
            };
            ValueId q = dense(x, "attention.self.query", d, d);
            ValueId k = dense(x, "attention.self.key", d, d);
            ValueId v = dense(x, "attention.self.value", d, d);
            ValueId a = g_.add(attn, {q, k, v, starts}, p + "attn");
            a = dense(a, "attention.output.dense", d, d);
            x = g_.add(add, {x, a}, p + "attn_residual");
            x = g_.add(ln, {x, vec(w + "attention.output.LayerNorm.weight", d), vec(w + "attention.output.LayerNorm.bias", d)},
                       p + "attn_norm");
            ValueId h = dense(x, "intermediate.dense", c_.n_ff, d, true);
            h = dense(h, "output.dense", d, c_.n_ff);
            x = g_.add(add, {x, h}, p + "ffn_residual");
            x = g_.add(ln, {x, vec(w + "output.LayerNorm.weight", d), vec(w + "output.LayerNorm.bias", d)}, p + "ffn_norm");
        }
        ValueId y = g_.add(ops::pool(pooling), {x, starts}, "pool");
        if (normalize) y = g_.add(ops::l2_normalize(), {y}, "normalize");
        g_.mark_output(y);
    }

private:
    EncoderWeight find(const std::string& name, const graph::Dims& dims) const {
        const std::optional<EncoderWeight> t = w_.find(name);
        if (!t)
            fail(w_.path(), ": tensor '", w_.file_name(name), "' is missing: not a BERT checkpoint, or a variant lmx does not know");
        if (t->dims != dims)
            fail(w_.path(), ": tensor '", t->name, "' has shape ", graph::dims_to_string(t->dims), ", expected ",
                 graph::dims_to_string(dims), " from the model's configuration");
        if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16 && !dtype_info(t->dtype).quantized)
            fail(w_.path(), ": tensor '", t->name, "' is ", dtype_name(t->dtype), "; BERT weights must be float or ggml-quantized");
        return *t;
    }

    // The tensor as f32: its bytes in the file when they are aligned f32, else converted
    // into buf.
    static const float* as_f32(const EncoderWeight& t, std::vector<float>& buf) {
        if (t.dtype == DType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
            return reinterpret_cast<const float*>(t.data);
        int64_t n = 1;
        for (int64_t d : t.dims) n *= d;
        buf.resize(static_cast<size_t>(n));
        if (t.dtype == DType::F32) {
            std::memcpy(buf.data(), t.data, t.nbytes);
        } else if (t.dtype == DType::F16 || t.dtype == DType::BF16) {
            for (size_t i = 0; i < buf.size(); i++) {
                uint16_t h;
                std::memcpy(&h, t.data + 2 * i, 2);
                buf[i] = t.dtype == DType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
            }
        } else {
            dequantize_row(t.dtype, t.data, buf.data(), static_cast<int64_t>(buf.size()));
        }
        return buf.data();
    }

    // A converted copy is kept in memory the graph owns.
    ValueId constant(const EncoderWeight& t, const graph::Dims& dims) {
        std::vector<float> buf;
        const float* data = as_f32(t, buf);
        if (!buf.empty()) data = out_.owned.emplace_back(std::move(buf)).data();
        return g_.add_constant(t.name, DType::F32, dims, data);
    }
    ValueId vec(const std::string& name, int64_t n) { return constant(find(name, {n}), {n}); }
    // Embedding tables: a quantized one stays as it is (embed dequantizes the rows it
    // gathers); float ones become f32.
    ValueId table(const std::string& name, int64_t rows) {
        const EncoderWeight t = find(name, {rows, c_.n_embd});
        if (dtype_info(t.dtype).quantized) return g_.add_constant(t.name, t.dtype, {rows, c_.n_embd}, t.data);
        return constant(t, {rows, c_.n_embd});
    }
    // Quantized matrices stay in the file ([n, k]: the quantized matmul, repacked where
    // the CPU has a packed GEMM). Float ones (F32, F16, BF16) become f32 panels for the
    // dense op's GEMM (kernels.hpp), which sums every element in the same order whatever
    // the row count, so batching never changes a vector; it runs 3x faster than matmul's
    // f16 rows here (all-MiniLM-L6-v2 f16 GGUF, 2 threads: 109 -> 294 texts/s).
    static bool stays_in_file(const EncoderWeight& t) { return dtype_info(t.dtype).quantized; }
    ValueId panels(const EncoderWeight& t, int64_t n, int64_t k) {
        std::vector<float> converted;  // a converted copy is needed only until packed
        const float* w = as_f32(t, converted);
        const int64_t np = kernels::f32_panels(n);
        std::vector<float>& packed = out_.owned.emplace_back(static_cast<size_t>(np * k * kernels::kF32Panel));
        kernels::pack_f32_panels(w, k, n, k, true, packed.data());
        return g_.add_constant(t.name, DType::F32, {np, k, kernels::kF32Panel}, packed.data());
    }

    const EncoderWeights& w_;
    EncoderGraph& out_;
    graph::Graph& g_;
    const EncoderConfig& c_;
    bool bf16_;
};

}  // namespace

std::unique_ptr<EncoderGraph> build_bert_encoder(const EncoderWeights& weights, const EncoderConfig& config,
                                                 ops::Pooling pooling, bool normalize, bool bf16) {
    auto out = std::make_unique<EncoderGraph>();
    out->config = config;
    BertBuilder(weights, *out, bf16).build(pooling, normalize);
    return out;
}

}  // namespace lmx::models
