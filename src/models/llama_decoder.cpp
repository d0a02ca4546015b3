// The llama-family decoder (llama, SmolLM2): pre-norm blocks of RMSNorm →
// grouped-query attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual.
#include <cmath>
#include <string>

#include "base/error.hpp"
#include "models/decoder.hpp"

namespace lmx::models {

using graph::Dims;
using graph::ValueId;

namespace {

class Builder {
public:
    Builder(const gguf::File& f, DecoderGraph& out) : f_(f), g_(out.graph), c_(out.config) {}

    // A weight with its expected row-major dims ([N, K] for a matrix: ggml stores [K, N]).
    ValueId weight(const std::string& name, Dims dims) {
        const gguf::TensorInfo* t = f_.tensor(name);
        if (!t) fail(f_.path(), ": tensor '", name, "' is missing (architecture ", c_.arch, ")");
        Dims ggml_order(dims.rbegin(), dims.rend());
        if (t->shape != ggml_order)
            fail(f_.path(), ": tensor '", name, "' has shape ", graph::dims_to_string(Dims(t->shape.rbegin(), t->shape.rend())),
                 ", expected ", graph::dims_to_string(dims));
        return g_.add_constant(name, t->dtype, std::move(dims), t->data);
    }
    ValueId layer_weight(int il, const char* suffix, Dims dims) {
        std::string name = "blk.";  // built by appending: g++ 12 warns falsely (-Wrestrict) on operator+ chains
        name.append(std::to_string(il)).append(".").append(suffix);
        return weight(name, std::move(dims));
    }

    void build() {
        const int64_t d = c_.n_embd, hd = c_.head_dim;
        const int64_t qd = c_.n_heads * hd, kvd = c_.n_kv_heads * hd;
        ValueId tokens = g_.add_input("tokens", DType::I32, {graph::kTokens});
        ValueId positions = g_.add_input("positions", DType::I32, {graph::kTokens});
        ValueId seq_ids = g_.add_input("seq_ids", DType::I32, {graph::kTokens});
        ValueId out_rows = g_.add_input("output_rows", DType::I32, {graph::kOutputs});

        ValueId embd = weight("token_embd.weight", {c_.n_vocab, d});
        ValueId x = g_.add(ops::embed(), {embd, tokens}, "embed");

        const auto norm = ops::rms_norm(c_.rms_eps);
        const auto mm = ops::matmul();
        ops::RopeParams rq{c_.n_heads, c_.head_dim, c_.n_rot, c_.rope_base, c_.rope_layout};
        ops::RopeParams rk = rq;
        rk.n_heads = c_.n_kv_heads;
        const auto rope_q = ops::rope(rq), rope_k = ops::rope(rk);

        for (int il = 0; il < c_.n_layers; il++) {
            std::string p = "l";
            p.append(std::to_string(il)).append(".");
            ValueId h = g_.add(norm, {x, layer_weight(il, "attn_norm.weight", {d})}, p + "attn_norm");
            ValueId q = g_.add(mm, {h, layer_weight(il, "attn_q.weight", {qd, d})}, p + "q");
            ValueId k = g_.add(mm, {h, layer_weight(il, "attn_k.weight", {kvd, d})}, p + "k");
            ValueId v = g_.add(mm, {h, layer_weight(il, "attn_v.weight", {kvd, d})}, p + "v");
            q = g_.add(rope_q, {q, positions}, p + "q_rope");
            k = g_.add(rope_k, {k, positions}, p + "k_rope");
            ops::AttentionParams ap{il, c_.n_heads, c_.n_kv_heads, c_.head_dim, 1.0f / std::sqrt(static_cast<float>(hd))};
            ValueId a = g_.add(ops::attention(ap), {q, k, v, positions, seq_ids}, p + "attn");
            a = g_.add(mm, {a, layer_weight(il, "attn_output.weight", {d, qd})}, p + "attn_out");
            x = g_.add(ops::add(), {x, a}, p + "attn_residual");

            h = g_.add(norm, {x, layer_weight(il, "ffn_norm.weight", {d})}, p + "ffn_norm");
            ValueId gate = g_.add(mm, {h, layer_weight(il, "ffn_gate.weight", {c_.n_ff, d})}, p + "gate");
            ValueId up = g_.add(mm, {h, layer_weight(il, "ffn_up.weight", {c_.n_ff, d})}, p + "up");
            ValueId act = g_.add(ops::swiglu(), {gate, up}, p + "swiglu");
            ValueId down = g_.add(mm, {act, layer_weight(il, "ffn_down.weight", {d, c_.n_ff})}, p + "down");
            x = g_.add(ops::add(), {x, down}, p + "ffn_residual");
        }
        // Only the requested rows go through the final norm and the (large) output head.
        x = g_.add(ops::gather_rows(), {x, out_rows}, "outputs");
        x = g_.add(norm, {x, weight("output_norm.weight", {d})}, "output_norm");
        ValueId head = c_.tied_output ? embd : weight("output.weight", {c_.n_vocab, d});
        g_.mark_output(g_.add(mm, {x, head}, "logits"));
    }

private:
    const gguf::File& f_;
    graph::Graph& g_;
    const DecoderConfig& c_;
};

}  // namespace

DecoderGraph build_decoder(const gguf::File& f) {
    DecoderGraph out;
    out.config = read_decoder_config(f);
    Builder(f, out).build();
    return out;
}

}  // namespace lmx::models
