#include "models/onnx/decoder_export.hpp"

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "models/decoder.hpp"
#include "tensor/dequantize.hpp"

namespace lmx::models {

namespace {

using onnx::DataType;

onnx::ValueInfo tensor_info(std::string name, DataType t, const std::vector<std::string>& dims) {
    onnx::ValueInfo v;
    v.name = std::move(name);
    v.type.kind = onnx::TypeProto::Kind::TENSOR;
    v.type.elem_type = t;
    v.type.has_shape = true;
    for (const std::string& d : dims) {
        onnx::Dim dim;
        if (!d.empty() && d.find_first_not_of("0123456789") == std::string::npos) dim.value = std::stoll(d);
        else dim.param = d;
        v.type.shape.push_back(dim);
    }
    return v;
}

// Builds the graph node by node; value names are unique by construction (a running counter).
class Builder {
public:
    explicit Builder(onnx::Graph& g) : g_(g) {}

    std::string node(const std::string& op, std::vector<std::string> inputs, std::vector<onnx::Attribute> attrs = {},
                     const std::string& out = "") {
        return nodes(op, std::move(inputs), 1, std::move(attrs), out).at(0);
    }
    std::vector<std::string> nodes(const std::string& op, std::vector<std::string> inputs, int n_out,
                                   std::vector<onnx::Attribute> attrs = {}, const std::string& out = "") {
        onnx::Node n;
        n.op_type = op;
        n.name = "/" + op + "_" + std::to_string(counter_++);
        n.inputs = std::move(inputs);
        for (int i = 0; i < n_out; i++) n.outputs.push_back(out.empty() || i > 0 ? n.name + "/out" + std::to_string(i) : out);
        n.attributes = std::move(attrs);
        g_.nodes.push_back(n);
        return n.outputs;
    }
    std::string initializer(const std::string& name, DataType t, std::vector<int64_t> dims, std::vector<uint8_t> bytes) {
        g_.initializers.push_back(onnx::owned_tensor(name, t, std::move(dims), std::move(bytes)));
        return name;
    }
    std::string floats(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
        std::vector<uint8_t> bytes(v.size() * 4);
        std::memcpy(bytes.data(), v.data(), bytes.size());
        return initializer(name, DataType::FLOAT, std::move(dims), std::move(bytes));
    }
    std::string ints(const std::string& name, const std::vector<int64_t>& v, bool scalar = false) {
        std::vector<uint8_t> bytes(v.size() * 8);
        std::memcpy(bytes.data(), v.data(), bytes.size());
        return initializer(name, DataType::INT64, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(v.size())},
                           std::move(bytes));
    }

private:
    onnx::Graph& g_;
    int counter_ = 0;
};

class Exporter {
public:
    Exporter(const gguf::File& f, const ExportOptions& opt) : f_(f), opt_(opt), c_(read_decoder_config(f)), b_(m_.graph) {}

    onnx::Model run() {
        if (c_.arch != "llama" && c_.arch != "qwen2")
            fail("exporting architecture '", c_.arch, "' is not supported yet (llama, qwen2 and their kin are)");
        if (c_.n_rot != c_.head_dim) fail("partial rotary embeddings (", c_.n_rot, " of ", c_.head_dim, " dims) are not supported yet");
        m_.ir_version = 8;
        m_.opset_import = {{"", 17}};
        m_.producer_name = "lmx";
        m_.producer_version = "0.1.0";
        m_.graph.name = "main_graph";
        for (const gguf::TensorInfo& t : f_.tensors()) total_ += t.nbytes;
        if (c_.tied_output) total_ += f_.tensor("token_embd.weight") ? f_.tensor("token_embd.weight")->nbytes : 0;  // converted twice
        build();
        return std::move(m_);
    }

private:
    // The GGUF tensor as row-major floats [rows, cols] (ggml's shape reversed).
    std::vector<float> dequantized(const std::string& name, int64_t& rows, int64_t& cols) {
        const gguf::TensorInfo* t = f_.tensor(name);
        if (!t) fail("tensor ", name, " is missing");
        cols = t->shape[0];
        rows = t->elements() / cols;
        std::vector<float> out(static_cast<size_t>(t->elements()));
        const size_t row_bytes = dtype_row_bytes(t->dtype, cols);
        for (int64_t r = 0; r < rows; r++) dequantize_row(t->dtype, t->data + static_cast<size_t>(r) * row_bytes, out.data() + r * cols, cols);
        done_ += t->nbytes;
        if (opt_.progress) opt_.progress(done_, total_);
        return out;
    }
    // ggml's llama q/k rows are permuted for adjacent-pair RoPE: within each head, row
    // 2i + t holds what Hugging Face's row t·(head_dim/2) + i holds. Undo it.
    void unpermute_heads(std::vector<float>& w, int64_t rows, int64_t cols) const {
        if (c_.rope_layout != ops::RopeLayout::adjacent_pairs) return;
        const int64_t hd = c_.head_dim, half = hd / 2;
        std::vector<float> out(w.size());
        for (int64_t h = 0; h < rows / hd; h++)
            for (int64_t i = 0; i < half; i++)
                for (int64_t t = 0; t < 2; t++)
                    std::memcpy(&out[static_cast<size_t>((h * hd + t * half + i) * cols)], &w[static_cast<size_t>((h * hd + 2 * i + t) * cols)],
                                static_cast<size_t>(cols) * 4);
        w = std::move(out);
    }

    // MatMul's right operand: the GGUF weight [N, K] transposed to [K, N].
    std::string matmul_weight(const std::string& gguf_name, const std::string& onnx_name, bool rope_rows = false) {
        int64_t n, k;
        std::vector<float> w = dequantized(gguf_name, n, k);
        if (rope_rows) unpermute_heads(w, n, k);
        std::vector<float> t(w.size());
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < k; j++) t[static_cast<size_t>(j * n + i)] = w[static_cast<size_t>(i * k + j)];
        return b_.floats(onnx_name, {k, n}, t);
    }
    std::string vector_weight(const std::string& gguf_name, const std::string& onnx_name, bool rope_rows = false) {
        int64_t rows, cols;
        std::vector<float> w = dequantized(gguf_name, rows, cols);
        if (rope_rows) unpermute_heads(w, cols, 1);
        return b_.floats(onnx_name, {cols}, w);
    }

    std::string rms_norm(const std::string& x, const std::string& weight) {
        return b_.node("SimplifiedLayerNormalization", {x, weight}, {onnx::int_attribute("axis", -1), onnx::float_attribute("epsilon", c_.rms_eps)});
    }
    // [B, S, heads·hd] -> [B, heads, S, hd]
    std::string split_heads(const std::string& x, int64_t heads) {
        std::string r = b_.node("Reshape", {x, b_.ints(fresh("shape"), {0, 0, heads, c_.head_dim})});
        return b_.node("Transpose", {r}, {onnx::ints_attribute("perm", {0, 2, 1, 3})});
    }
    // x·cos + rotate_half(x)·sin, rotate_half(x) = concat(-x[.., hd/2:], x[.., :hd/2]).
    std::string rope(const std::string& x, const std::string& cos, const std::string& sin) {
        std::string lo = b_.node("Slice", {x, consts_.zero, consts_.half, consts_.last_axis});
        std::string hi = b_.node("Slice", {x, consts_.half, consts_.head_dim, consts_.last_axis});
        std::string rot = b_.node("Concat", {b_.node("Neg", {hi}), lo}, {onnx::int_attribute("axis", -1)});
        return b_.node("Add", {b_.node("Mul", {x, cos}), b_.node("Mul", {rot, sin})});
    }
    std::string fresh(const std::string& what) { return "/const/" + what + "_" + std::to_string(n_consts_++); }

    void build() {
        onnx::Graph& g = m_.graph;
        const std::vector<std::string> bs = {"batch_size", "sequence_length"};
        g.inputs.push_back(tensor_info("input_ids", DataType::INT64, bs));
        g.inputs.push_back(tensor_info("attention_mask", DataType::INT64, {"batch_size", "total_sequence_length"}));
        g.inputs.push_back(tensor_info("position_ids", DataType::INT64, bs));
        const std::string kv_heads = std::to_string(c_.n_kv_heads), hd = std::to_string(c_.head_dim);
        for (int l = 0; l < c_.n_layers; l++)
            for (const char* kv : {"key", "value"})
                g.inputs.push_back(tensor_info("past_key_values." + std::to_string(l) + "." + kv, DataType::FLOAT,
                                               {"batch_size", kv_heads, "past_sequence_length", hd}));
        g.outputs.push_back(tensor_info("logits", DataType::FLOAT, {"batch_size", "sequence_length", std::to_string(c_.n_vocab)}));
        for (int l = 0; l < c_.n_layers; l++)
            for (const char* kv : {"key", "value"})
                g.outputs.push_back(tensor_info("present." + std::to_string(l) + "." + kv, DataType::FLOAT,
                                                {"batch_size", kv_heads, "total_sequence_length", hd}));

        consts_.zero = b_.ints("/const/zero", {0});
        consts_.one = b_.ints("/const/one", {1});
        consts_.half = b_.ints("/const/half", {c_.head_dim / 2});
        consts_.head_dim = b_.ints("/const/head_dim", {c_.head_dim});
        consts_.last_axis = b_.ints("/const/last_axis", {-1});

        // Token embeddings; the table is [vocab, n_embd] row-major already.
        int64_t vocab, d;
        std::vector<float> embd = dequantized("token_embd.weight", vocab, d);
        const std::string embd_name = b_.floats("model.embed_tokens.weight", {vocab, d}, embd);
        std::string x = b_.node("Gather", {embd_name, "input_ids"}, {onnx::int_attribute("axis", 0)});

        // RoPE tables [max_pos, hd/2] gathered by position: cos/sin [B, 1, S, hd] (halves repeated).
        const int64_t half = c_.head_dim / 2, max_pos = std::max(c_.n_ctx_train, 1);
        std::vector<float> cos_t(static_cast<size_t>(max_pos * half)), sin_t(cos_t.size());
        for (int64_t p = 0; p < max_pos; p++)
            for (int64_t i = 0; i < half; i++) {
                const double inv_freq = std::pow(static_cast<double>(c_.rope_base), -2.0 * static_cast<double>(i) / static_cast<double>(c_.head_dim));
                const float inv = static_cast<float>(inv_freq);  // Hugging Face keeps inv_freq in fp32
                const float angle = static_cast<float>(p) * inv;
                cos_t[static_cast<size_t>(p * half + i)] = std::cos(angle);
                sin_t[static_cast<size_t>(p * half + i)] = std::sin(angle);
            }
        auto table = [&](const std::string& name, const std::vector<float>& t) {
            std::string gathered = b_.node("Gather", {b_.floats(name, {max_pos, half}, t), "position_ids"}, {onnx::int_attribute("axis", 0)});
            std::string full = b_.node("Concat", {gathered, gathered}, {onnx::int_attribute("axis", -1)});
            return b_.node("Unsqueeze", {full, consts_.one});
        };
        const std::string cos = table("/rope/cos_cache", cos_t), sin = table("/rope/sin_cache", sin_t);

        // Attention bias [B, 1, S, T]: 0 where key t is visible to query s (t <= past + s and
        // attention_mask[b, t] = 1), the lowest float elsewhere.
        const std::string total = b_.node("Gather", {b_.node("Shape", {"attention_mask"}), b_.ints("/const/idx1", {1}, true)}, {onnx::int_attribute("axis", 0)});
        const std::string seq = b_.node("Gather", {b_.node("Shape", {"input_ids"}), b_.ints("/const/idx1b", {1}, true)}, {onnx::int_attribute("axis", 0)});
        const std::string past = b_.node("Sub", {total, seq});
        const std::string one_s = b_.ints("/const/one_s", {1}, true);
        const std::string q_pos = b_.node("Range", {past, total, one_s});
        const std::string k_pos = b_.node("Range", {b_.ints("/const/zero_s", {0}, true), total, one_s});
        const std::string causal = b_.node("LessOrEqual", {b_.node("Unsqueeze", {k_pos, consts_.zero}), b_.node("Unsqueeze", {q_pos, consts_.one})});
        const std::string padded = b_.node("Unsqueeze", {b_.node("Cast", {"attention_mask"}, {onnx::int_attribute("to", static_cast<int64_t>(DataType::BOOL))}),
                                                         b_.ints("/const/axes12", {1, 2})});
        const std::string visible = b_.node("And", {causal, padded});
        const std::string bias = b_.node("Where", {visible, b_.floats("/const/zero_f", {}, {0.0f}), b_.floats("/const/min_f", {}, {-3.4028234663852886e38f})});

        const int64_t h = c_.n_heads, hkv = c_.n_kv_heads;
        const std::string scale = b_.floats("/const/attn_scale", {}, {c_.attn_scale});
        for (int l = 0; l < c_.n_layers; l++) {
            const std::string p = "blk." + std::to_string(l) + ".", hp = "model.layers." + std::to_string(l) + ".";
            std::string n1 = rms_norm(x, vector_weight(p + "attn_norm.weight", hp + "input_layernorm.weight"));
            auto project = [&](const std::string& gname, const std::string& hname, bool rope_rows) {
                std::string y = b_.node("MatMul", {n1, matmul_weight(p + gname + ".weight", hp + hname + ".weight", rope_rows)});
                if (c_.qkv_bias) y = b_.node("Add", {y, vector_weight(p + gname + ".bias", hp + hname + ".bias", rope_rows)});
                return y;
            };
            std::string q = rope(split_heads(project("attn_q", "self_attn.q_proj", true), h), cos, sin);
            std::string k = rope(split_heads(project("attn_k", "self_attn.k_proj", true), hkv), cos, sin);
            std::string v = split_heads(project("attn_v", "self_attn.v_proj", false), hkv);
            const std::string pl = std::to_string(l);
            k = b_.node("Concat", {"past_key_values." + pl + ".key", k}, {onnx::int_attribute("axis", 2)}, "present." + pl + ".key");
            v = b_.node("Concat", {"past_key_values." + pl + ".value", v}, {onnx::int_attribute("axis", 2)}, "present." + pl + ".value");
            // Grouped queries: q [B, H, S, hd] viewed as [B, Hkv, G·S, hd] shares each kv head.
            std::string qg = b_.node("Reshape", {b_.node("Mul", {q, scale}), b_.ints(fresh("shape"), {0, hkv, -1, c_.head_dim})});
            std::string kt = b_.node("Transpose", {k}, {onnx::ints_attribute("perm", {0, 1, 3, 2})});
            std::string scores = b_.node("Reshape", {b_.node("MatMul", {qg, kt}), b_.ints(fresh("shape"), {0, h, -1, 0})});
            std::string probs = b_.node("Softmax", {b_.node("Add", {scores, bias})}, {onnx::int_attribute("axis", -1)});
            std::string pg = b_.node("Reshape", {probs, b_.ints(fresh("shape"), {0, hkv, -1, 0})});
            std::string ctx = b_.node("Reshape", {b_.node("MatMul", {pg, v}), b_.ints(fresh("shape"), {0, h, -1, c_.head_dim})});
            ctx = b_.node("Reshape", {b_.node("Transpose", {ctx}, {onnx::ints_attribute("perm", {0, 2, 1, 3})}), b_.ints(fresh("shape"), {0, 0, h * c_.head_dim})});
            std::string o = b_.node("MatMul", {ctx, matmul_weight(p + "attn_output.weight", hp + "self_attn.o_proj.weight")});
            x = b_.node("Add", {x, o});

            std::string n2 = rms_norm(x, vector_weight(p + "ffn_norm.weight", hp + "post_attention_layernorm.weight"));
            std::string gate = b_.node("MatMul", {n2, matmul_weight(p + "ffn_gate.weight", hp + "mlp.gate_proj.weight")});
            std::string up = b_.node("MatMul", {n2, matmul_weight(p + "ffn_up.weight", hp + "mlp.up_proj.weight")});
            std::string act = b_.node("Mul", {b_.node("Mul", {gate, b_.node("Sigmoid", {gate})}), up});
            x = b_.node("Add", {x, b_.node("MatMul", {act, matmul_weight(p + "ffn_down.weight", hp + "mlp.down_proj.weight")})});
        }
        x = rms_norm(x, vector_weight("output_norm.weight", "model.norm.weight"));
        const std::string head = c_.tied_output ? matmul_weight("token_embd.weight", "lm_head.weight") : matmul_weight("output.weight", "lm_head.weight");
        b_.node("MatMul", {x, head}, {}, "logits");
    }

    const gguf::File& f_;
    const ExportOptions& opt_;
    const DecoderConfig c_;
    onnx::Model m_;
    Builder b_;
    struct {
        std::string zero, one, half, head_dim, last_axis;
    } consts_;
    int n_consts_ = 0;
    size_t done_ = 0, total_ = 0;
};

}  // namespace

onnx::Model export_decoder(const gguf::File& f, const ExportOptions& opt) { return Exporter(f, opt).run(); }

std::string export_config_json(const gguf::File& f) {
    const DecoderConfig c = read_decoder_config(f);
    nlohmann::ordered_json j;
    j["architectures"] = {c.arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
    j["model_type"] = c.arch == "qwen2" ? "qwen2" : "llama";
    j["hidden_size"] = c.n_embd;
    j["intermediate_size"] = c.n_ff;
    j["num_hidden_layers"] = c.n_layers;
    j["num_attention_heads"] = c.n_heads;
    j["num_key_value_heads"] = c.n_kv_heads;
    j["head_dim"] = c.head_dim;
    j["vocab_size"] = c.n_vocab;
    j["max_position_embeddings"] = c.n_ctx_train;
    j["rms_norm_eps"] = c.rms_eps;
    j["rope_theta"] = c.rope_base;
    j["tie_word_embeddings"] = c.tied_output;
    j["hidden_act"] = "silu";
    j["torch_dtype"] = "float32";
    j["bos_token_id"] = f.get_int("tokenizer.ggml.bos_token_id", 0);
    j["eos_token_id"] = f.get_int("tokenizer.ggml.eos_token_id", 0);
    j["transformers.js_config"] = {{"use_external_data_format", false}};
    return j.dump(2) + "\n";
}

std::string export_generation_config_json(const gguf::File& f) {
    nlohmann::ordered_json j;
    j["bos_token_id"] = f.get_int("tokenizer.ggml.bos_token_id", 0);
    j["eos_token_id"] = f.get_int("tokenizer.ggml.eos_token_id", 0);
    return j.dump(2) + "\n";
}

std::string export_genai_config_json(const gguf::File& f, const std::string& model_file) {
    const DecoderConfig c = read_decoder_config(f);
    const int64_t eos = f.get_int("tokenizer.ggml.eos_token_id", 0);
    nlohmann::ordered_json decoder;
    decoder["session_options"] = {{"log_id", "onnxruntime-genai"}, {"provider_options", nlohmann::json::array()}};
    decoder["filename"] = model_file;
    decoder["head_size"] = c.head_dim;
    decoder["hidden_size"] = c.n_embd;
    decoder["num_attention_heads"] = c.n_heads;
    decoder["num_hidden_layers"] = c.n_layers;
    decoder["num_key_value_heads"] = c.n_kv_heads;
    decoder["inputs"] = {{"input_ids", "input_ids"}, {"attention_mask", "attention_mask"}, {"position_ids", "position_ids"},
                         {"past_key_names", "past_key_values.%d.key"}, {"past_value_names", "past_key_values.%d.value"}};
    decoder["outputs"] = {{"logits", "logits"}, {"present_key_names", "present.%d.key"}, {"present_value_names", "present.%d.value"}};
    nlohmann::ordered_json j;
    j["model"] = {{"bos_token_id", f.get_int("tokenizer.ggml.bos_token_id", 0)}, {"context_length", c.n_ctx_train},
                  {"eos_token_id", eos}, {"pad_token_id", f.get_int("tokenizer.ggml.padding_token_id", eos)},
                  {"type", c.arch == "qwen2" ? "qwen2" : "llama"}, {"vocab_size", c.n_vocab}, {"decoder", decoder}};
    // past_present_share_buffer off: the graph concatenates past and new keys (present grows).
    j["search"] = {{"do_sample", false}, {"max_length", c.n_ctx_train}, {"min_length", 0}, {"num_beams", 1}, {"num_return_sequences", 1},
                   {"past_present_share_buffer", false}, {"repetition_penalty", 1.0}, {"temperature", 1.0}, {"top_k", 1}, {"top_p", 1.0}};
    return j.dump(2) + "\n";
}

}  // namespace lmx::models
