#pragma once
// POST /v1/embeddings over the encoder models given with --embedding-model (HF model
// folders, BERT GGUF files or ONNX encoder exports, see runtime/embedder.hpp), each
// loaded on first use. An Embedder runs one batch at a time, so requests to the same
// model take turns.
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/embedder.hpp"
#include "server/api.hpp"

namespace lmx::server {

class EmbeddingModels {
public:
    // dirs: model folders; a model's name is its folder name. Throws lmx::Error for a path that is not a folder.
    EmbeddingModels(const std::vector<std::string>& dirs, int n_threads);
    ~EmbeddingModels();

    std::vector<std::string> names() const;
    bool has(const std::string& name) const;
    // The OpenAI response for r. Throws ApiError 404 for an unknown model, 503 when it fails to load.
    nlohmann::json embed(const EmbeddingRequest& r);

private:
    struct Entry {
        std::string name, dir;
        std::mutex mu;  // loading and running take turns
        std::unique_ptr<Embedder> embedder;
    };
    int n_threads_;
    std::vector<std::unique_ptr<Entry>> models_;
};

}  // namespace lmx::server
