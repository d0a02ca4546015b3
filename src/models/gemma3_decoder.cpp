// The gemma3 decoder, as llama.cpp's llm_build_gemma3 (sliding-window variant):
// token embeddings scaled by sqrt(n_embd); each block is
//   RMSNorm → q, k, v → per-head RMSNorm of q and k (QK-norm) → RoPE → attention
//   (local layers: sliding window and their own RoPE base) → out → RMSNorm → residual,
//   RMSNorm → GeGLU MLP → RMSNorm → residual.
// The GGUF converter already folded gemma's (1 + weight) norm scaling into the weights.
#include "models/graph_builder.hpp"

namespace lmx::models {

using graph::ValueId;

namespace {

class Gemma3Builder : GraphBuilder {
public:
    using GraphBuilder::GraphBuilder;

    void build() {
        const int64_t d = c_.n_embd, hd = c_.head_dim;
        const int64_t qd = c_.n_heads * hd, kvd = c_.n_kv_heads * hd;
        const Inputs in = add_inputs();
        ValueId embd = weight("token_embd.weight", {c_.n_vocab, d});
        ValueId x = g_.add(ops::embed(), {embd, in.tokens}, "embed");
        x = g_.add(ops::scale(c_.embd_scale), {x}, "embed_scaled");

        const auto norm = ops::rms_norm(c_.rms_eps);
        const auto q_norm = ops::head_rms_norm(c_.rms_eps, c_.n_heads), k_norm = ops::head_rms_norm(c_.rms_eps, c_.n_kv_heads);
        auto rope = [&](int n_heads, float base) {
            return ops::rope({n_heads, c_.head_dim, c_.n_rot, base, c_.rope_layout});
        };
        const auto rope_q_global = rope(c_.n_heads, c_.rope_base), rope_k_global = rope(c_.n_kv_heads, c_.rope_base);
        const auto rope_q_local = rope(c_.n_heads, c_.rope_base_local), rope_k_local = rope(c_.n_kv_heads, c_.rope_base_local);

        for (int il = 0; il < c_.n_layers; il++) {
            const std::string p = layer_prefix(il);
            const bool local = c_.is_local(il);
            ValueId h = g_.add(norm, {x, layer_weight(il, "attn_norm.weight", {d})}, p + "attn_norm");
            ValueId q = matmul(h, layer_weight(il, "attn_q.weight", {qd, d}), p + "attn_q");
            ValueId k = matmul(h, layer_weight(il, "attn_k.weight", {kvd, d}), p + "attn_k");
            const ValueId v = matmul(h, layer_weight(il, "attn_v.weight", {kvd, d}), p + "attn_v");
            q = g_.add(q_norm, {q, layer_weight(il, "attn_q_norm.weight", {hd})}, p + "q_norm");
            k = g_.add(k_norm, {k, layer_weight(il, "attn_k_norm.weight", {hd})}, p + "k_norm");
            q = g_.add(local ? rope_q_local : rope_q_global, {q, in.positions}, p + "q_rope");
            k = g_.add(local ? rope_k_local : rope_k_global, {k, in.positions}, p + "k_rope");
            ops::AttentionParams ap{il, c_.n_heads, c_.n_kv_heads, c_.head_dim, c_.attn_scale, local ? c_.sliding_window : 0};
            ValueId a = g_.add(ops::attention(ap), {q, k, v, in.positions, in.seq_ids}, p + "attn");
            a = matmul(a, layer_weight(il, "attn_output.weight", {d, qd}), p + "attn_out");
            a = g_.add(norm, {a, layer_weight(il, "post_attention_norm.weight", {d})}, p + "attn_post_norm");
            x = g_.add(ops::add(), {x, a}, p + "attn_residual");

            h = g_.add(norm, {x, layer_weight(il, "ffn_norm.weight", {d})}, p + "ffn_norm");
            const ValueId gate = matmul(h, layer_weight(il, "ffn_gate.weight", {c_.n_ff, d}), p + "ffn_gate");
            const ValueId up = matmul(h, layer_weight(il, "ffn_up.weight", {c_.n_ff, d}), p + "ffn_up");
            ValueId act = g_.add(ops::geglu(), {gate, up}, p + "geglu");
            ValueId down = matmul(act, layer_weight(il, "ffn_down.weight", {d, c_.n_ff}), p + "down");
            down = g_.add(norm, {down, layer_weight(il, "post_ffw_norm.weight", {d})}, p + "ffn_post_norm");
            x = g_.add(ops::add(), {x, down}, p + "ffn_residual");
        }
        add_logits(x, in.output_rows, embd);
    }
};

}  // namespace

void build_gemma3(const gguf::File& f, DecoderGraph& out) { Gemma3Builder(f, out).build(); }

}  // namespace lmx::models
