#include "runtime/embedder.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.hpp"
#include "base/sha256.hpp"
#include "kernels/kernels.hpp"
#include "runtime/onnx_files.hpp"
#include "runtime/session.hpp"

namespace lmx {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path.string(), ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json read_json(const fs::path& path) {
    json j = json::parse(read_text(path), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) fail(path.string(), ": not valid JSON");
    return j;
}

// What sentence-transformers would run: the pooling module's mode, whether a Normalize
// module follows, and the Transformer module's max_seq_length.
struct SentenceTransformersConfig {
    ops::Pooling pooling = ops::Pooling::mean;
    bool normalize = false;
    int max_seq_length = 0;
};

SentenceTransformersConfig read_st_config(const fs::path& dir) {
    SentenceTransformersConfig st;
    fs::path pooling_dir;
    if (fs::exists(dir / "modules.json")) {
        const json modules = read_json(dir / "modules.json");
        if (!modules.is_array()) fail((dir / "modules.json").string(), ": expected a list of modules");
        for (const json& m : modules) {
            const std::string type = m.is_object() && m.value("type", json()).is_string() ? m["type"].get<std::string>() : "";
            if (type == "sentence_transformers.models.Pooling" && m.value("path", json()).is_string())
                pooling_dir = dir / m["path"].get<std::string>();
            if (type == "sentence_transformers.models.Normalize") st.normalize = true;
        }
    }
    if (!pooling_dir.empty() && fs::exists(pooling_dir / "config.json")) {
        const json p = read_json(pooling_dir / "config.json");
        auto on = [&](const char* key) { return p.is_object() && p.value(key, false) == true; };
        if (on("pooling_mode_cls_token")) st.pooling = ops::Pooling::cls;
        else if (on("pooling_mode_lasttoken")) st.pooling = ops::Pooling::last;
        else if (on("pooling_mode_mean_tokens")) st.pooling = ops::Pooling::mean;
        else fail((pooling_dir / "config.json").string(), ": no pooling mode lmx supports (mean, cls, lasttoken) is enabled");
    }
    if (fs::exists(dir / "sentence_bert_config.json")) {
        const json s = read_json(dir / "sentence_bert_config.json");
        if (s.is_object() && s.contains("max_seq_length") && s["max_seq_length"].is_number_integer())
            st.max_seq_length = s["max_seq_length"].get<int>();
    }
    return st;
}

// The defaults a GGUF file gives, as llama.cpp reads them: bert.pooling_type (llama.cpp's
// enum: 0 none, 1 mean, 2 cls, 3 last, 4 rank), vectors L2-normalized (the default of its
// embedding tools and server), no length below the context.
SentenceTransformersConfig read_gguf_defaults(const gguf::File& f) {
    SentenceTransformersConfig d;
    d.normalize = true;
    switch (f.get_int("bert.pooling_type", 1)) {
        case 0:  // "none": llama.cpp would give token vectors; one vector per text needs a pooling
        case 1: d.pooling = ops::Pooling::mean; break;
        case 2: d.pooling = ops::Pooling::cls; break;
        case 3: d.pooling = ops::Pooling::last; break;
        default: fail(f.path(), ": bert.pooling_type ", f.get_int("bert.pooling_type"), " is not a pooling lmx embeds with (1 mean, 2 cls, 3 last)");
    }
    return d;
}

// A fingerprint of the weights: every tensor's name, dtype, shape and first 64 KiB.
// Any fine-tune changes those bytes, and it costs milliseconds where hashing all of a
// 90 MB file would add most of a second to every `lmx search`.
void hash_tensor(Sha256& h, std::string_view name, std::string_view dtype, const std::vector<int64_t>& shape,
                 const uint8_t* data, size_t nbytes) {
    h.update(name.data(), name.size());
    h.update("", 1);  // a NUL after each string, so names cannot run together
    h.update(dtype.data(), dtype.size());
    h.update("", 1);
    for (int64_t d : shape) h.update(&d, sizeof d);
    h.update(data, std::min<size_t>(nbytes, 64 * 1024));
}

std::string weights_fingerprint(const safetensors::File& f) {
    Sha256 h;
    for (const safetensors::TensorInfo& t : f.tensors()) hash_tensor(h, t.name, t.dtype, t.shape, t.data, t.nbytes);
    return h.finish_hex();
}

std::string weights_fingerprint(const gguf::File& f) {
    Sha256 h;
    for (const gguf::TensorInfo& t : f.tensors()) hash_tensor(h, t.name, dtype_name(t.dtype), t.shape, t.data, t.nbytes);
    return h.finish_hex();
}

std::string weights_fingerprint(const onnx::Model& f) {
    Sha256 h;
    for (const onnx::Tensor& t : f.graph.initializers) {
        const std::span<const uint8_t> bytes = t.bytes();
        hash_tensor(h, t.name, std::to_string(static_cast<int>(t.dtype)), t.dims, bytes.data(), bytes.size());
    }
    return h.finish_hex();
}

// The positions and default length an ONNX export's config.json gives (0 where it has none).
int max_positions(const fs::path& dir) {
    if (!fs::exists(dir / "config.json")) return 0;
    const json c = read_json(dir / "config.json");
    return c.is_object() && c.value("max_position_embeddings", json()).is_number_integer() ? c["max_position_embeddings"].get<int>() : 0;
}

// An HF model folder with safetensors weights (which wins over an ONNX export beside them).
bool is_safetensors_folder(const fs::path& p) { return fs::is_directory(p) && fs::exists(p / "model.safetensors"); }

// A GGUF file, told by its magic rather than its name.
bool is_gguf(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

}  // namespace

ops::Pooling parse_pooling(const std::string& name) {
    for (ops::Pooling p : {ops::Pooling::mean, ops::Pooling::cls, ops::Pooling::last})
        if (name == ops::pooling_name(p)) return p;
    fail("unknown pooling '", name, "'; choose mean, cls or last");
}

std::string embedding_model_path(const std::string& model) {
    const fs::path installed = fs::path(model_home()) / model;
    if (model.find('/') == std::string::npos && fs::exists(installed)) return installed.string();
    if (fs::exists(model)) return model;
    fail("embedding model '", model, "' is neither a folder or file nor installed under ", model_home(),
         " (install it with scripts/setup.sh, or give a model folder or a BERT GGUF file)");
}

bool is_embedding_model(const std::string& path) {
    if (is_safetensors_folder(path)) return true;
    if (is_onnx_path(path)) {
        try {
            const onnx::Model m = onnx::Model::open(locate_onnx(path).graph.string());
            std::vector<std::string> inputs, outputs;
            for (const onnx::ValueInfo& v : m.graph.inputs) inputs.push_back(v.name);
            for (const onnx::ValueInfo& v : m.graph.outputs) outputs.push_back(v.name);
            detect_encoder_io(inputs, outputs);
            return true;
        } catch (const Error&) {
            return false;  // a decoder, or not a graph lmx reads: not an embedding model
        }
    }
    if (!is_gguf(path)) return false;
    return gguf::File::open(path).get_string("general.architecture", "") == "bert";
}

Embedder::Embedder(const std::string& path, const EmbedderOptions& opts)
    : pool_(opts.n_threads > 0 ? opts.n_threads : hardware_threads()), ctx_(pool_, kernels::best_table()) {
    const fs::path p(path);
    std::unique_ptr<models::EncoderWeights> weights;
    models::EncoderConfig config;
    SentenceTransformersConfig defaults;
    std::string fingerprint, name;
    int default_length = 0;
    if (!is_safetensors_folder(p) && is_onnx_path(p)) {
        const OnnxFiles files = locate_onnx(p);
        onnx_ = std::make_unique<OnnxEncoder>(files.graph.string(), !opts.f32);
        if (!fs::exists(files.dir / "tokenizer.json"))
            fail(files.dir.string(), " has no tokenizer.json for ", files.graph.string(), " (put the model's tokenizer.json and sentence-transformers configs beside it)");
        tokenizer_ = Tokenizer::from_hf_json((files.dir / "tokenizer.json").string());
        defaults = read_st_config(files.dir);
        config.n_positions = max_positions(files.dir);
        default_length = config.n_positions > 0 ? config.n_positions : 512;  // BERT's when config.json is not there
        fingerprint = weights_fingerprint(onnx_->file());
        name = fs::is_directory(p) ? fs::weakly_canonical(p).filename().string() : p.stem().string();
    } else if (fs::is_directory(p)) {
        safetensors_ = std::make_unique<safetensors::File>(safetensors::File::open((p / "model.safetensors").string()));
        weights = std::make_unique<models::EncoderWeights>(*safetensors_);
        config = models::read_bert_config(read_text(p / "config.json"), (p / "config.json").string());
        tokenizer_ = Tokenizer::from_hf_json((p / "tokenizer.json").string());
        defaults = read_st_config(p);
        fingerprint = weights_fingerprint(*safetensors_);
        name = fs::weakly_canonical(p).filename().string();
    } else {
        if (!fs::exists(p)) fail(path, ": no such model folder or file");
        if (!is_gguf(p)) fail(path, ": neither a model folder nor a GGUF file");
        gguf_ = std::make_unique<gguf::File>(gguf::File::open(path));
        weights = std::make_unique<models::EncoderWeights>(*gguf_);
        config = models::read_bert_config(*gguf_);
        tokenizer_ = Tokenizer::from_gguf(*gguf_);
        defaults = read_gguf_defaults(*gguf_);
        fingerprint = weights_fingerprint(*gguf_);
        name = p.stem().string();
    }
    pooling_ = opts.pooling.value_or(defaults.pooling);
    normalize_ = opts.normalize.value_or(defaults.normalize);
    if (!onnx_) default_length = config.n_positions;
    max_length_ = opts.max_length > 0 ? opts.max_length : defaults.max_seq_length > 0 ? defaults.max_seq_length : default_length;
    if (config.n_positions > 0 && max_length_ > config.n_positions)
        fail("max length ", max_length_, " exceeds the model's ", config.n_positions, " positions");
    if (opts.batch_tokens < max_length_) fail("batch of ", opts.batch_tokens, " tokens cannot hold one text of ", max_length_);
    batch_tokens_ = opts.batch_tokens;

    // Where the tokenizer's specials sit around a text, so truncation keeps them.
    const std::vector<int32_t> plain = tokenizer_->encode("a", false, false), full = tokenizer_->encode("a", true, false);
    const auto at = std::search(full.begin(), full.end(), plain.begin(), plain.end());
    if (plain.empty() || at == full.end()) fail(path, ": the tokenizer's post-processor does not keep the text's tokens in order");
    n_prefix_ = static_cast<size_t>(at - full.begin());
    n_suffix_ = full.size() - n_prefix_ - plain.size();
    if (static_cast<size_t>(max_length_) <= n_prefix_ + n_suffix_) fail("max length ", max_length_, " leaves no room for text");

    if (onnx_) {
        // The export's token states are pooled by the same ops as the native graph's.
        const graph::ValueId states = pooling_graph_.add_dynamic_input("states", DType::F32);
        const graph::ValueId starts = pooling_graph_.add_dynamic_input("seq_starts", DType::I32);
        graph::ValueId y = pooling_graph_.add_dynamic_node(ops::pool(pooling_), {states, starts}, {"pooled"}).at(0);
        if (normalize_) y = pooling_graph_.add_dynamic_node(ops::l2_normalize(), {y}, {"normalized"}).at(0);
        pooling_graph_.mark_output(y);
        executor_ = std::make_unique<graph::Executor>(pooling_graph_);
        const std::vector<std::vector<int32_t>> probe = {tokenize("a")};  // the graph runs, and tells its width
        std::vector<std::vector<float>> v(1);
        run_onnx_batch(probe, {0}, 0, 1, v);
    } else {
        graph_ = models::build_bert_encoder(*weights, config, pooling_, normalize_, !opts.f32 && kernels::best_table().gemm_bf16_panels);
        executor_ = std::make_unique<graph::Executor>(graph_->graph);
        dims_ = config.n_embd;
    }
    model_id_ = name + ":" + std::string(ops::pooling_name(pooling_)) + (normalize_ ? ":norm:" : ":raw:") + fingerprint.substr(0, 16);
}

std::vector<int32_t> Embedder::tokenize(const std::string& text, size_t* untruncated) const {
    // Special tokens written in the text ("[SEP]") are matched, as HF tokenizers and so
    // sentence-transformers do.
    std::vector<int32_t> ids = tokenizer_->encode(text, true, true);
    if (untruncated) *untruncated = ids.size();
    const auto max = static_cast<size_t>(max_length_);
    if (ids.size() > max) ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(max - n_suffix_), ids.end() - static_cast<std::ptrdiff_t>(n_suffix_));
    return ids;
}

std::vector<std::vector<float>> Embedder::embed(const std::vector<std::string>& texts,
                                                const std::function<void(size_t, size_t)>& on_truncate) {
    std::vector<std::vector<int32_t>> seqs(texts.size());
    for (size_t i = 0; i < texts.size(); i++) {
        size_t n = 0;
        seqs[i] = tokenize(texts[i], &n);
        if (n > seqs[i].size() && on_truncate) on_truncate(i, n);
    }
    std::vector<std::vector<float>> out(texts.size());
    if (onnx_) {
        // Padded batches: longest texts first, each batch as many texts as fit in
        // batch_tokens at the length of its longest, and at most kOnnxBatchTexts: among
        // texts sorted by length, few neighbours differ much, so little compute goes to
        // padding (of the 520 golden texts' cells, 18% are padding in batches of 16,
        // 30% in batches filled to 4096 tokens).
        constexpr size_t kOnnxBatchTexts = 16;
        std::vector<size_t> order(seqs.size());
        for (size_t i = 0; i < order.size(); i++) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return seqs[a].size() > seqs[b].size(); });
        for (size_t first = 0; first < order.size();) {
            const auto width = static_cast<int64_t>(seqs[order[first]].size());
            size_t last = first + 1;
            while (last < order.size() && last - first < kOnnxBatchTexts && static_cast<int64_t>(last - first + 1) * width <= batch_tokens_) last++;
            run_onnx_batch(seqs, order, first, last, out);
            first = last;
        }
        return out;
    }
    // Texts go in order, as many per pass as fit in batch_tokens: no padding, so a
    // batch costs what its tokens cost.
    size_t first = 0;
    while (first < seqs.size()) {
        size_t last = first;
        int64_t n_tok = 0;
        while (last < seqs.size() && n_tok + static_cast<int64_t>(seqs[last].size()) <= batch_tokens_)
            n_tok += static_cast<int64_t>(seqs[last++].size());
        run_batch(seqs, first, last, out);
        first = last;
    }
    return out;
}

void Embedder::run_batch(const std::vector<std::vector<int32_t>>& seqs, size_t first, size_t last,
                         std::vector<std::vector<float>>& out) {
    std::vector<int32_t> tokens, positions, starts;
    for (size_t s = first; s < last; s++) {
        starts.push_back(static_cast<int32_t>(tokens.size()));
        for (size_t i = 0; i < seqs[s].size(); i++) {
            tokens.push_back(seqs[s][i]);
            positions.push_back(static_cast<int32_t>(i));
        }
    }
    std::vector<int32_t> types(tokens.size(), 0);  // one segment: single texts, not pairs
    const auto n = static_cast<int64_t>(tokens.size()), n_seq = static_cast<int64_t>(starts.size());
    std::vector<graph::Tensor> inputs = {
        {DType::I32, {n}, tokens.data()},
        {DType::I32, {n}, positions.data()},
        {DType::I32, {n}, types.data()},
        {DType::I32, {n_seq}, starts.data()},
    };
    const std::vector<graph::Tensor> y = executor_->run(ctx_, inputs);
    const float* v = y.at(0).as<float>();
    const auto d = static_cast<size_t>(dims());
    for (size_t s = first; s < last; s++) {
        const float* row = v + (s - first) * d;
        out[s].assign(row, row + d);
    }
}

void Embedder::run_onnx_batch(const std::vector<std::vector<int32_t>>& seqs, const std::vector<size_t>& order, size_t first, size_t last,
                              std::vector<std::vector<float>>& out) {
    std::vector<const std::vector<int32_t>*> texts;
    std::vector<int32_t> starts;
    int32_t n_rows = 0;
    for (size_t i = first; i < last; i++) {
        texts.push_back(&seqs[order[i]]);
        starts.push_back(n_rows);
        n_rows += onnx_->pooled() ? 1 : static_cast<int32_t>(seqs[order[i]].size());
    }
    int64_t d = 0;
    const std::vector<float>& states = onnx_->run(ctx_, texts, d);
    dims_ = static_cast<int>(d);
    const std::vector<graph::Tensor> y = executor_->run(ctx_, {{DType::F32, {n_rows, d}, const_cast<float*>(states.data())},
                                                               {DType::I32, {static_cast<int64_t>(starts.size())}, starts.data()}});
    const float* v = y.at(0).as<float>();
    for (size_t i = first; i < last; i++) {
        const float* row = v + (i - first) * static_cast<size_t>(d);
        out[order[i]].assign(row, row + d);
    }
}

}  // namespace lmx
