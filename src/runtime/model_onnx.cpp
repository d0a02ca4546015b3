// Loading an ONNX decoder-with-past model folder: the graph (imported into the IR),
// the hyper-parameters the runtime needs from config.json (Hugging Face) or
// genai_config.json (onnxruntime-genai), the tokenizer from tokenizer.json and the chat
// template from tokenizer_config.json.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.hpp"
#include "runtime/model.hpp"
#include "runtime/onnx_files.hpp"

namespace lmx {

namespace fs = std::filesystem;
using nlohmann::json;

static std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return {};
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

static json read_json(const fs::path& p) {
    try {
        return json::parse(read_text(p));
    } catch (const json::exception& e) {
        fail(p.string(), " is not valid JSON: ", e.what());
    }
}

// DecoderConfig fields the runtime reads, from whichever config file the folder has.
static models::DecoderConfig read_config(const fs::path& dir) {
    models::DecoderConfig c;
    auto get = [](const json& j, const char* key, int fallback) { return j.contains(key) && j[key].is_number() ? j[key].get<int>() : fallback; };
    if (fs::exists(dir / "config.json")) {
        const json j = read_json(dir / "config.json");
        c.arch = j.value("model_type", "");
        c.n_layers = get(j, "num_hidden_layers", 0);
        c.n_embd = get(j, "hidden_size", 0);
        c.n_ff = get(j, "intermediate_size", 0);
        c.n_heads = get(j, "num_attention_heads", 0);
        c.n_kv_heads = get(j, "num_key_value_heads", c.n_heads);
        c.head_dim = get(j, "head_dim", c.n_heads ? c.n_embd / c.n_heads : 0);
        c.n_vocab = get(j, "vocab_size", 0);
        c.n_ctx_train = get(j, "max_position_embeddings", 0);
    } else if (fs::exists(dir / "genai_config.json")) {
        const json m = read_json(dir / "genai_config.json").value("model", json::object());
        const json d = m.value("decoder", json::object());
        c.arch = m.value("type", "");
        c.n_layers = get(d, "num_hidden_layers", 0);
        c.n_embd = get(d, "hidden_size", 0);
        c.n_heads = get(d, "num_attention_heads", 0);
        c.n_kv_heads = get(d, "num_key_value_heads", c.n_heads);
        c.head_dim = get(d, "head_size", c.n_heads ? c.n_embd / c.n_heads : 0);
        c.n_vocab = get(m, "vocab_size", 0);
        c.n_ctx_train = get(m, "context_length", 0);
    } else {
        fail(dir.string(), " has neither config.json nor genai_config.json beside the model");
    }
    return c;
}

std::shared_ptr<const Model> Model::load_onnx(const std::string& path) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto [onnx_path, dir] = locate_onnx(path);
    std::shared_ptr<Model> m(new Model(onnx_path.string()));
    m->decoder_.config = read_config(dir);
    m->onnx_ = models::import_onnx(onnx::Model::open(onnx_path.string()));
    try {
        m->onnx_io_ = detect_decoder_io(m->onnx_->graph);
    } catch (const Error& e) {
        fail(onnx_path.string(), ": ", e.what());
    }
    models::DecoderConfig& c = m->decoder_.config;
    OnnxDecoderIO& io = m->onnx_io_;
    if (io.kv_heads == 0) io.kv_heads = c.n_kv_heads;
    if (io.head_dim == 0) io.head_dim = c.head_dim;
    if (io.kv_heads <= 0 || io.head_dim <= 0) fail(onnx_path.string(), ": the past key/value dims are symbolic and the config does not give them");
    if (c.n_layers != io.n_layers()) fail(onnx_path.string(), ": the graph has ", io.n_layers(), " layers of past key/values, the config says ", c.n_layers);

    if (!fs::exists(dir / "tokenizer.json")) fail(dir.string(), " has no tokenizer.json beside the model");
    const std::string tok_config = read_text(dir / "tokenizer_config.json");
    m->tokenizer_ = Tokenizer::from_hf_json_text(read_text(dir / "tokenizer.json"), tok_config, (dir / "tokenizer.json").string());
    if (c.n_vocab <= 0) c.n_vocab = m->tokenizer_->n_vocab();
    if (!tok_config.empty()) {
        const json tc = read_json(dir / "tokenizer_config.json");
        if (tc.contains("chat_template") && tc["chat_template"].is_string()) m->onnx_chat_template_ = tc["chat_template"];
    }
    m->load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return m;
}

}  // namespace lmx
