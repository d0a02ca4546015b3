// The llama-family decoder (llama, SmolLM2, qwen2): pre-norm blocks of RMSNorm →
// grouped-query attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual.
// qwen2 is the same graph with a bias on the q, k and v projections.
#include "models/graph_builder.hpp"

namespace lmx::models {

using graph::ValueId;

namespace {

class LlamaBuilder : GraphBuilder {
public:
    using GraphBuilder::GraphBuilder;

    void build() {
        const int64_t d = c_.n_embd, hd = c_.head_dim;
        const int64_t qd = c_.n_heads * hd, kvd = c_.n_kv_heads * hd;
        const Inputs in = add_inputs();
        ValueId embd = weight("token_embd.weight", {c_.n_vocab, d});
        ValueId x = g_.add(ops::embed(), {embd, in.tokens}, "embed");

        const auto norm = ops::rms_norm(c_.rms_eps);
        ops::RopeParams rq{c_.n_heads, c_.head_dim, c_.n_rot, c_.rope_base, c_.rope_layout};
        ops::RopeParams rk = rq;
        rk.n_heads = c_.n_kv_heads;
        const auto rope_q = ops::rope(rq), rope_k = ops::rope(rk);
        // x · blk.<il>.<name>.weightᵀ, plus blk.<il>.<name>.bias when the architecture has one
        auto projection = [&](ValueId x, int il, const std::string& name, int64_t n, bool bias) {
            return matmul(x, layer_weight(il, name + ".weight", {n, d}), layer_prefix(il) + name,
                          bias ? layer_weight(il, name + ".bias", {n}) : ValueId{-1});
        };

        for (int il = 0; il < c_.n_layers; il++) {
            const std::string p = layer_prefix(il);
            ValueId h = g_.add(norm, {x, layer_weight(il, "attn_norm.weight", {d})}, p + "attn_norm");
            ValueId q = projection(h, il, "attn_q", qd, c_.qkv_bias);
            ValueId k = projection(h, il, "attn_k", kvd, c_.qkv_bias);
            const ValueId v = projection(h, il, "attn_v", kvd, c_.qkv_bias);
            q = g_.add(rope_q, {q, in.positions}, p + "q_rope");
            k = g_.add(rope_k, {k, in.positions}, p + "k_rope");
            ops::AttentionParams ap{il, c_.n_heads, c_.n_kv_heads, c_.head_dim, c_.attn_scale};
            ValueId a = g_.add(ops::attention(ap), {q, k, v, in.positions, in.seq_ids}, p + "attn");
            a = matmul(a, layer_weight(il, "attn_output.weight", {d, qd}), p + "attn_out");
            x = g_.add(ops::add(), {x, a}, p + "attn_residual");

            h = g_.add(norm, {x, layer_weight(il, "ffn_norm.weight", {d})}, p + "ffn_norm");
            const ValueId gate = projection(h, il, "ffn_gate", c_.n_ff, false), up = projection(h, il, "ffn_up", c_.n_ff, false);
            ValueId act = g_.add(ops::swiglu(), {gate, up}, p + "swiglu");
            ValueId down = matmul(act, layer_weight(il, "ffn_down.weight", {d, c_.n_ff}), p + "down");
            x = g_.add(ops::add(), {x, down}, p + "ffn_residual");
        }
        add_logits(x, in.output_rows, embd);
    }
};

}  // namespace

void build_llama(const gguf::File& f, DecoderGraph& out) { LlamaBuilder(f, out).build(); }

}  // namespace lmx::models
