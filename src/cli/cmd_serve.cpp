// lmx serve: the OpenAI-compatible server (src/server/) with continuous batching.
#include <memory>

#include "cli/commands.hpp"
#include "runtime/model.hpp"
#include "server/server.hpp"

namespace lmx::cli {

namespace {

struct ServeArgs {
    server::ServerOptions opts;
    int timeout_s = 600, grace_s = 10;
    size_t max_body_mib = 8, memory_limit_mib = 0;
};

}  // namespace

void add_serve(CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    server::ServerOptions& o = a->opts;
    SchedulerOptions& s = o.pool.scheduler;
    CLI::App* c = app.add_subcommand("serve", "serve an OpenAI-compatible API (chat, completions, streaming) with continuous batching");
    c->add_option("-m,--model", o.models, "GGUF file or folder of them, or an ONNX model folder; repeatable; the request's \"model\" is the file name without .gguf (an ONNX folder's name) "
                                          "(default: the installed SmolLM2-135M-Instruct)");
    c->add_option("--embedding-model", o.embedding_models, "HF encoder model folder, BERT GGUF file or ONNX encoder export for /v1/embeddings (repeatable; named by its folder or file stem)");
    c->add_option("--host", o.host, "address to listen on")->capture_default_str();
    c->add_option("--port", o.port, "port; 0 picks a free one (logged)")->check(CLI::Range(0, 65535))->capture_default_str();
    c->add_option("--api-key", o.api_key, "require 'Authorization: Bearer KEY' (except /health and /)");
    c->add_option("-P,--parallel", s.n_slots, "requests decoding at once per model (KV-cache slots)")->check(CLI::Range(1, 256))->capture_default_str();
    c->add_option("-c,--ctx-size", s.n_ctx, "context per slot: prompt + reply tokens")->check(CLI::Range(int64_t{16}, int64_t{1} << 20))->capture_default_str();
    c->add_option("-t,--threads", s.n_threads, "threads per model (default: all cores)")->check(CLI::Range(0, 512));
    c->add_option("-b,--batch-size", s.n_batch, "tokens per forward pass (generation first, then prompt chunks)")->check(CLI::Range(1, 65536))->capture_default_str();
    c->add_option("--max-queue", s.max_queued, "requests waiting per model before 429")->capture_default_str();
    c->add_option("--max-loaded", o.pool.max_loaded, "models loaded at once; the least recently used idle one is unloaded")->check(CLI::Range(1, 64))->capture_default_str();
    c->add_option("--memory-limit", a->memory_limit_mib, "MiB a model (weights + KV cache) may use (default: the available memory)");
    c->add_option("--cors-origin", o.cors_origins, "allow browser requests from this origin (repeatable; * for any)");
    c->add_option("--timeout", a->timeout_s, "seconds a request may take to arrive and to be answered")->check(CLI::Range(1, 86400))->capture_default_str();
    c->add_option("--max-body", a->max_body_mib, "largest request body in MiB (413 beyond)")->check(CLI::Range(1, 1024))->capture_default_str();
    c->add_option("--grace", a->grace_s, "seconds in-flight requests may finish after SIGTERM")->check(CLI::Range(0, 3600))->capture_default_str();
    c->add_option("--http-threads", o.http_threads, "connections served at once")->check(CLI::Range(2, 4096))->capture_default_str();
    c->add_option("--fallback-url", o.fallback_url, "OpenAI-compatible endpoint (e.g. https://api.openai.com/v1) for models not served here");
    c->add_option("--fallback-key", o.fallback_key, "Bearer key for --fallback-url");
    c->callback([a] {
        server::ServerOptions opts = a->opts;
        if (opts.models.empty()) opts.models.push_back(default_model_path());
        opts.timeout = std::chrono::seconds(a->timeout_s);
        opts.grace = std::chrono::seconds(a->grace_s);
        opts.max_body = a->max_body_mib << 20;
        opts.pool.memory_limit = a->memory_limit_mib << 20;
        server::serve(opts);
    });
}

}  // namespace lmx::cli
