#include "server/embeddings.hpp"

#include <cstring>
#include <filesystem>

#include "base/error.hpp"

namespace lmx::server {

using nlohmann::json;

namespace {

// OpenAI's base64 embeddings: the float32 values' little-endian bytes, base64-encoded.
std::string base64_floats(const std::vector<float>& v) {
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(v.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), v.data(), bytes.size());  // x86 and wasm are little-endian
    std::string out;
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        uint32_t x = 0;
        for (size_t k = 0; k < 3; k++) x = (x << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
        for (size_t k = 0; k < 4; k++) out += k <= n ? abc[(x >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

}  // namespace

EmbeddingModels::EmbeddingModels(const std::vector<std::string>& dirs, int n_threads) : n_threads_(n_threads) {
    for (const std::string& d : dirs) {
        std::error_code ec;
        const bool folder = std::filesystem::is_directory(d, ec);
        if (!is_embedding_model(d))
            fail("--embedding-model ", d, " is neither a model folder (config.json, model.safetensors, tokenizer.json), a BERT GGUF file nor an ONNX encoder export (onnx/model.onnx with tokenizer.json)");
        auto e = std::make_unique<Entry>();
        const std::filesystem::path p(d);
        e->name = folder ? p.filename().string() : p.stem().string();
        if (e->name.empty()) e->name = p.parent_path().filename().string();
        e->dir = d;
        models_.push_back(std::move(e));
    }
}

EmbeddingModels::~EmbeddingModels() = default;

std::vector<std::string> EmbeddingModels::names() const {
    std::vector<std::string> out;
    for (const auto& e : models_) out.push_back(e->name);
    return out;
}

bool EmbeddingModels::has(const std::string& name) const {
    for (const auto& e : models_)
        if (e->name == name) return true;
    return false;
}

json EmbeddingModels::embed(const EmbeddingRequest& r) {
    Entry* e = nullptr;
    for (const auto& m : models_)
        if (m->name == r.model || (r.model.empty() && m == models_.front())) e = m.get();
    if (!e)
        throw ApiError(404, models_.empty() ? "this server has no embedding model: start it with --embedding-model FOLDER"
                                            : "the embedding model '" + r.model + "' does not exist: GET /v1/models lists them",
                       "invalid_request_error", "model_not_found", "model");
    std::lock_guard lock(e->mu);
    if (!e->embedder) {
        try {
            EmbedderOptions o;
            o.n_threads = n_threads_;
            e->embedder = std::make_unique<Embedder>(e->dir, o);
        } catch (const Error& err) {
            throw ApiError(503, "embedding model '" + e->name + "' failed to load: " + err.what(), "server_error", "model_unavailable", "model");
        }
    }
    size_t n_tokens = 0;
    for (const std::string& t : r.input) n_tokens += e->embedder->tokenize(t).size();
    const auto vectors = e->embedder->embed(r.input);
    json data = json::array();
    for (size_t i = 0; i < vectors.size(); i++)
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", r.base64 ? json(base64_floats(vectors[i])) : json(vectors[i])}});
    return {{"object", "list"}, {"data", data}, {"model", e->name}, {"usage", {{"prompt_tokens", n_tokens}, {"total_tokens", n_tokens}}}};
}

}  // namespace lmx::server
