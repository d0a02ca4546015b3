// The BERT encoder as HF's BertModel computes it: word + position + token-type
// embeddings → LayerNorm, then post-norm blocks of self-attention → add → LayerNorm,
// dense → gelu → dense → add → LayerNorm; then the sentence-transformers pooling.
#include <cmath>
#include <cstring>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "models/bert_encoder.hpp"
#include "kernels/kernels.hpp"
#include "ops/ops.hpp"
#include "tensor/dequantize.hpp"

namespace lmx::models {

using graph::ValueId;

namespace {

class BertBuilder {
public:
    BertBuilder(const safetensors::File& f, EncoderGraph& out, bool bf16) : f_(f), out_(out), g_(out.graph), c_(out.config), bf16_(bf16) {
        // Checkpoints saved from BertForXxx prefix the encoder's names with "bert."
        if (!f_.tensor("embeddings.word_embeddings.weight") && f_.tensor("bert.embeddings.word_embeddings.weight"))
            prefix_ = "bert.";
    }

    void build(ops::Pooling pooling, bool normalize) {
        const int64_t d = c_.n_embd;
        const ValueId tokens = g_.add_input("tokens", DType::I32, {graph::kTokens});
        const ValueId positions = g_.add_input("positions", DType::I32, {graph::kTokens});
        const ValueId types = g_.add_input("token_types", DType::I32, {graph::kTokens});
        const ValueId starts = g_.add_input("seq_starts", DType::I32, {graph::kOutputs});

        const auto embed = ops::embed(), add = ops::add(), mm = ops::matmul(), ln = ops::layer_norm(c_.layer_norm_eps);
        ValueId x = g_.add(embed, {table("embeddings.word_embeddings.weight", c_.n_vocab), tokens}, "word_embd");
        x = g_.add(add, {x, g_.add(embed, {table("embeddings.position_embeddings.weight", c_.n_positions), positions}, "pos_embd")},
                   "embd_pos");
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
                const safetensors::TensorInfo& t = find(w + name + ".weight", {n, k});
                const ValueId bias = vec(w + name + ".bias", n);
                if (!keeps_half(t)) {
                    const ValueId w32 = panels(t, n, k);
                    std::shared_ptr<std::vector<uint32_t>> w16;
                    if (bf16_) {
                        w16 = std::make_shared<std::vector<uint32_t>>(static_cast<size_t>(kernels::f32_panels(n) * ((k + 1) / 2) * kernels::kF32Panel));
                        kernels::pack_bf16_panels(static_cast<const float*>(g_.value(w32).data), n, k, w16->data());
                    }
                    return g_.add(ops::dense(n, gelu, std::move(w16)), {h, w32, bias}, p + name);
                }
                const ValueId y = g_.add(mm, {h, g_.add_constant(t.name, t.lmx_dtype(), {n, k}, t.data), bias}, p + name);
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
    const safetensors::TensorInfo& find(const std::string& name, const graph::Dims& dims) const {
        const safetensors::TensorInfo* t = f_.tensor(prefix_ + name);
        if (!t) fail(f_.path(), ": tensor '", prefix_ + name, "' is missing: not a BERT checkpoint, or a variant lmx does not know");
        if (t->shape != dims)
            fail(f_.path(), ": tensor '", t->name, "' has shape ", graph::dims_to_string(t->shape), ", expected ",
                 graph::dims_to_string(dims), " from config.json");
        return *t;
    }

    // The tensor as f32, converted into memory the graph owns when the file holds another
    // dtype or the bytes are not aligned for floats.
    const float* as_f32(const safetensors::TensorInfo& t) {
        const DType dt = t.lmx_dtype();
        if (dt == DType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
            return reinterpret_cast<const float*>(t.data);
        if (dt != DType::F32 && dt != DType::F16 && dt != DType::BF16)
            fail(f_.path(), ": tensor '", t.name, "' is ", t.dtype, "; BERT weights must be F32, F16 or BF16");
        std::vector<float>& buf = out_.owned.emplace_back(static_cast<size_t>(t.elements()));
        if (dt == DType::F32) {
            std::memcpy(buf.data(), t.data, t.nbytes);
        } else {
            for (size_t i = 0; i < buf.size(); i++) {
                uint16_t h;
                std::memcpy(&h, t.data + 2 * i, 2);
                buf[i] = dt == DType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
            }
        }
        return buf.data();
    }

    ValueId constant(const safetensors::TensorInfo& t, const graph::Dims& dims) {
        return g_.add_constant(t.name, DType::F32, dims, as_f32(t));
    }
    ValueId vec(const std::string& name, int64_t n) { return constant(find(name, {n}), {n}); }
    ValueId table(const std::string& name, int64_t rows) {
        return constant(find(name, {rows, c_.n_embd}), {rows, c_.n_embd});
    }
    // F16 / BF16 matrices stay in the file when aligned ([n, k]: matmul has kernels for
    // them). The rest become f32 panels for the dense op's GEMM (kernels.hpp), which sums
    // every element in the same order whatever the row count, so batching still never
    // changes a vector.
    static bool keeps_half(const safetensors::TensorInfo& t) {
        const DType dt = t.lmx_dtype();
        return (dt == DType::F16 || dt == DType::BF16) && reinterpret_cast<uintptr_t>(t.data) % 2 == 0;
    }
    ValueId panels(const safetensors::TensorInfo& t, int64_t n, int64_t k) {
        const int64_t np = kernels::f32_panels(n);
        std::vector<float>& packed = out_.owned.emplace_back(static_cast<size_t>(np * k * kernels::kF32Panel));
        kernels::pack_f32_panels(as_f32(t), k, n, k, true, packed.data());
        return g_.add_constant(t.name, DType::F32, {np, k, kernels::kF32Panel}, packed.data());
    }

    const safetensors::File& f_;
    EncoderGraph& out_;
    graph::Graph& g_;
    const EncoderConfig& c_;
    bool bf16_;
    std::string prefix_;
};

}  // namespace

std::unique_ptr<EncoderGraph> build_bert_encoder(const safetensors::File& weights, const EncoderConfig& config,
                                                 ops::Pooling pooling, bool normalize, bool bf16) {
    auto out = std::make_unique<EncoderGraph>();
    out->config = config;
    BertBuilder(weights, *out, bf16).build(pooling, normalize);
    return out;
}

}  // namespace lmx::models
