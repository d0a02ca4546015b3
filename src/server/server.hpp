#pragma once
// `lmx serve`: the OpenAI-compatible HTTP server over a ModelPool.
//   POST /v1/chat/completions, /v1/completions (JSON or SSE streams), /v1/embeddings
//   GET  /v1/models, /health, /metrics (Prometheus); POST /tokenize, /detokenize
// Every error is OpenAI's JSON error shape. Requests are logged as one JSON line
// each on stderr, with the request id that X-Request-Id carries back.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "server/model_pool.hpp"

namespace lmx::server {

struct ServerOptions {
    std::vector<std::string> models;  // files or folders
    std::vector<std::string> embedding_models;  // HF model folders for /v1/embeddings
    PoolOptions pool;
    std::string host = "127.0.0.1";
    int port = 8080;                  // 0: any free port (the "listening" log line names it)
    std::string api_key;              // "" : no authentication
    std::vector<std::string> cors_origins;  // "*" allows any
    std::chrono::seconds timeout{600};      // per request: reading it, and generating its answer
    size_t max_body = 8u << 20;             // bytes; larger bodies get 413
    std::chrono::seconds grace{10};         // SIGTERM: how long in-flight requests may finish
    int http_threads = 64;                  // connections served at once (each stream holds one)
    std::string fallback_url, fallback_key;
};

// Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish
// within the grace period, cancels the rest and returns. Throws lmx::Error when the
// address cannot be bound or a model path is wrong.
void serve(const ServerOptions& opts);

}  // namespace lmx::server
