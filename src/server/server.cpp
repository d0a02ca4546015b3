#include "server/server.hpp"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>

#include "base/error.hpp"
#include "server/chat_page.hpp"
#include "server/completions.hpp"
#include "server/embeddings.hpp"
#include "server/fallback.hpp"
#include "server/metrics.hpp"

namespace lmx::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

void log_line(json j) {
    char ts[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    j["ts"] = ts;
    const std::string line = dump(j) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

// What one request's log line says. A connection is served by one thread from routing
// to the last byte of the response (streams included), so it lives there.
struct RequestLog {
    Clock::time_point start;
    std::string id, served_by;
    GenerationLog gen;
};
thread_local RequestLog t_log;

// Compares in time that depends only on the secret's length.
bool same_secret(const std::string& given, const std::string& secret) {
    unsigned char diff = given.size() == secret.size() ? 0 : 1;
    for (size_t i = 0; i < secret.size(); i++) diff |= static_cast<unsigned char>(secret[i] ^ (i < given.size() ? given[i] : 0));
    return diff == 0;
}

std::string request_id(const httplib::Request& req) {
    static std::atomic<uint64_t> counter{0};
    std::string id = req.get_header_value("X-Request-Id");
    const bool ok = !id.empty() && id.size() <= 64 &&
                    std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
    if (ok) return id;
    char buf[32];
    std::snprintf(buf, sizeof buf, "req-%llx-%llx", static_cast<unsigned long long>(std::time(nullptr)),
                  static_cast<unsigned long long>(counter.fetch_add(1)));
    return buf;
}

void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    if (e.status == 429 || e.status == 503) res.set_header("Retry-After", e.status == 429 ? "1" : "5");
    res.set_content(dump(e.body()), "application/json");
}

class Server {
public:
    explicit Server(const ServerOptions& o)
        : opts_(o), pool_(o.models, o.pool), embeddings_(o.embedding_models, o.pool.scheduler.n_threads) {
        if (!o.fallback_url.empty()) fallback_.emplace(o.fallback_url, o.fallback_key);
    }

    void run() {
        // SIGTERM/SIGINT go to the signal thread only; the others inherit the mask.
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
        setup();
        const int port = opts_.port == 0 ? svr_.bind_to_any_port(opts_.host) : (svr_.bind_to_port(opts_.host, opts_.port) ? opts_.port : -1);
        if (port < 0) fail("cannot listen on ", opts_.host, ":", opts_.port, ": is the port in use? pick another with --port");
        json models = json::array();
        for (const ModelEntry& m : pool_.entries()) models.push_back(m.name);
        for (const std::string& m : embeddings_.names()) models.push_back(m);
        log_line({{"level", "info"}, {"event", "listening"}, {"host", opts_.host}, {"port", port}, {"models", models},
                  {"url", "http://" + opts_.host + ":" + std::to_string(port)}});
        std::atomic<bool> done{false};
        std::thread watcher([&] { watch_signals(sigs, done); });
        svr_.listen_after_bind();
        done = true;
        watcher.join();
        log_line({{"level", "info"}, {"event", "stopped"}});
    }

private:
    // Waits for SIGTERM/SIGINT, then drains: no new work, in-flight requests get the grace
    // period, what remains is cancelled, and the listener stops.
    void watch_signals(const sigset_t& sigs, const std::atomic<bool>& done) {
        const timespec tick{0, 200'000'000};
        int sig = -1;
        while (!done && sig < 0) sig = sigtimedwait(&sigs, nullptr, &tick);
        if (sig < 0) return;
        draining_ = true;
        log_line({{"level", "info"}, {"event", "draining"}, {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                  {"in_flight", in_flight_.load()}, {"grace_s", opts_.grace.count()}});
        const auto deadline = Clock::now() + opts_.grace;
        while (in_flight_ > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (in_flight_ > 0) {
            log_line({{"level", "warn"}, {"event", "cancelling"}, {"in_flight", in_flight_.load()}});
            pool_.cancel_all();
            const auto hard = Clock::now() + std::chrono::seconds(5);
            while (in_flight_ > 0 && Clock::now() < hard) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        svr_.stop();
    }

    std::shared_ptr<void> flight() {
        in_flight_++;
        return std::shared_ptr<void>(nullptr, [this](void*) { in_flight_--; });
    }

    // Runs a handler, turning errors into OpenAI's error shape.
    template <class F>
    void guarded(httplib::Response& res, F&& f) {
        try {
            f();
        } catch (const ApiError& e) {
            send_error(res, e);
        } catch (const Error& e) {
            send_error(res, ApiError(500, e.what(), "server_error"));
        } catch (const std::exception& e) {
            send_error(res, ApiError(500, std::string("internal error: ") + e.what(), "server_error"));
        }
    }

    void generation(const httplib::Request& req, httplib::Response& res, Endpoint kind) {
        guarded(res, [&] {
            if (draining_) throw ApiError(503, "the server is shutting down: retry on another instance", "server_error", "shutting_down");
            std::optional<ChatRequest> chat;
            std::optional<CompletionRequest> text;
            if (kind == Endpoint::chat) chat = parse_chat_request(req.body);
            else text = parse_completion_request(req.body);
            const Generation& gen = chat ? chat->gen : text->gen;
            auto in_flight = flight();
            try {
                auto engine = pool_.get(gen.model);
                auto prompt = chat ? chat_prompt(*engine, *chat) : text_prompt(*engine, *text);
                res.set_header("X-Lmx-Served-By", "local");
                t_log.served_by = "local";
                serve_generation(engine, kind, gen, std::move(prompt), req, res,
                                 {metrics_, opts_.timeout, in_flight, [](const GenerationLog& g) { t_log.gen = g; }});
            } catch (const ApiError& e) {
                const bool local_unavailable = e.status == 404 || e.status == 429 || e.status == 503;
                if (!fallback_ || !local_unavailable) throw;
                res.headers.erase("X-Lmx-Served-By");
                t_log.served_by = "fallback";
                t_log.gen.model = gen.model;
                fallback_->forward(req, res, in_flight);
            }
        });
    }

    void setup() {
        const int n_threads = opts_.http_threads;
        svr_.new_task_queue = [n_threads] { return new httplib::ThreadPool(static_cast<size_t>(n_threads)); };
        svr_.set_payload_max_length(opts_.max_body);
        svr_.set_read_timeout(opts_.timeout);
        svr_.set_write_timeout(opts_.timeout);

        svr_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            t_log = RequestLog{Clock::now(), request_id(req), {}, {}};
            res.set_header("X-Request-Id", t_log.id);
            add_cors(req, res);
            if (req.method == "OPTIONS") {
                res.status = 204;
                return httplib::Server::HandlerResponse::Handled;
            }
            const bool open = req.path == "/health" || (req.path == "/" && req.method == "GET");
            if (!opts_.api_key.empty() && !open) {
                const std::string auth = req.get_header_value("Authorization");
                const std::string prefix = "Bearer ";
                const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                                same_secret(auth.substr(prefix.size()), opts_.api_key);
                if (!ok) {
                    send_error(res, ApiError(401, auth.empty() ? "no API key: send it as 'Authorization: Bearer KEY'" : "the API key is not valid",
                                             "authentication_error", "invalid_api_key"));
                    return httplib::Server::HandlerResponse::Handled;
                }
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        svr_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty() || res.has_header("X-Lmx-Served-By")) return httplib::Server::HandlerResponse::Unhandled;
            if (res.status == 404) send_error(res, ApiError(404, "no route for " + req.method + " " + req.path, "invalid_request_error", "not_found"));
            else if (res.status == 413) send_error(res, ApiError(413, "the request body is too large: the server accepts up to --max-body bytes", "invalid_request_error", "request_too_large"));
            else send_error(res, ApiError(res.status, "the request could not be handled (HTTP " + std::to_string(res.status) + ")"));
            return httplib::Server::HandlerResponse::Handled;
        }));
        svr_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send_error(res, ApiError(500, "internal error", "server_error"));
        });
        svr_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
            const double seconds = std::chrono::duration<double>(Clock::now() - t_log.start).count();
            metrics_.request(req.path, res.status, seconds);
            json j = {{"level", res.status >= 500 ? "error" : "info"}, {"event", "request"}, {"request_id", t_log.id},
                      {"method", req.method}, {"path", req.path}, {"status", res.status}, {"ms", seconds * 1000}, {"remote", req.remote_addr}};
            if (!t_log.served_by.empty()) j["served_by"] = t_log.served_by;
            if (!t_log.gen.model.empty()) {
                j["model"] = t_log.gen.model;
                j["prompt_tokens"] = t_log.gen.prompt_tokens;
                j["cached_tokens"] = t_log.gen.cached_tokens;
                j["completion_tokens"] = t_log.gen.completion_tokens;
                j["finish_reason"] = t_log.gen.finish_reason;
            }
            log_line(j);
            t_log = RequestLog{Clock::now(), "-", {}, {}};  // what httplib answers before routing (413) starts here
        });

        svr_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { generation(req, res, Endpoint::chat); });
        svr_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { generation(req, res, Endpoint::text); });
        svr_.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
            guarded(res, [&] {
                if (draining_) throw ApiError(503, "the server is shutting down: retry on another instance", "server_error", "shutting_down");
                const EmbeddingRequest r = parse_embedding_request(req.body);
                auto in_flight = flight();
                try {
                    const json body = embeddings_.embed(r);
                    t_log.served_by = "local";
                    res.set_header("X-Lmx-Served-By", "local");
                    res.set_content(dump(body), "application/json");
                } catch (const ApiError& e) {
                    if (!fallback_ || (e.status != 404 && e.status != 503)) throw;
                    t_log.served_by = "fallback";
                    fallback_->forward(req, res, in_flight);
                }
            });
        });
        svr_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
            json data = json::array();
            for (const ModelEntry& m : pool_.entries())
                data.push_back({{"id", m.name}, {"object", "model"}, {"created", 0}, {"owned_by", "lmx"}, {"state", m.state}});
            for (const std::string& m : embeddings_.names())
                data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "lmx"}, {"kind", "embedding"}});
            res.set_content(dump({{"object", "list"}, {"data", data}}), "application/json");
        });
        svr_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            json models = json::array();
            for (const ModelEntry& m : pool_.entries()) {
                json e = {{"id", m.name}, {"state", m.state}};
                if (!m.error.empty()) e["error"] = m.error;
                models.push_back(e);
            }
            res.status = draining_ ? 503 : 200;
            res.set_content(dump({{"status", draining_ ? "draining" : "ok"}, {"models", models}}), "application/json");
        });
        svr_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
            std::vector<std::pair<std::string, SchedulerStats>> live;
            for (const auto& e : pool_.loaded()) live.emplace_back(e->name(), e->scheduler().stats());
            res.set_content(metrics_.render(live), "text/plain; version=0.0.4");
        });
        svr_.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
            guarded(res, [&] {
                const TokenizeRequest r = parse_tokenize_request(req.body);
                const Tokenizer& tok = pool_.get(r.model)->model().tokenizer();
                json tokens = json::array();
                for (int32_t id : tok.encode(r.content, r.add_special, true)) {
                    if (r.with_pieces) tokens.push_back({{"id", id}, {"piece", tok.token_bytes(id).empty() ? std::string(tok.token_text(id)) : tok.token_bytes(id)}});
                    else tokens.push_back(id);
                }
                res.set_content(dump({{"tokens", tokens}}), "application/json");
            });
        });
        svr_.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
            guarded(res, [&] {
                const DetokenizeRequest r = parse_detokenize_request(req.body);
                const Tokenizer& tok = pool_.get(r.model)->model().tokenizer();
                for (int32_t id : r.tokens)
                    if (id >= tok.n_vocab())
                        throw ApiError(400, "token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(tok.n_vocab() - 1) + ")",
                                       "invalid_request_error", {}, "tokens");
                res.set_content(dump({{"content", tok.decode(r.tokens)}}), "application/json");
            });
        });
        svr_.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(std::string(chat_page_html()), "text/html; charset=utf-8"); });
    }

    void add_cors(const httplib::Request& req, httplib::Response& res) const {
        if (opts_.cors_origins.empty()) return;
        const std::string origin = req.get_header_value("Origin");
        const bool any = std::find(opts_.cors_origins.begin(), opts_.cors_origins.end(), "*") != opts_.cors_origins.end();
        if (any) {
            res.set_header("Access-Control-Allow-Origin", "*");
        } else if (!origin.empty() && std::find(opts_.cors_origins.begin(), opts_.cors_origins.end(), origin) != opts_.cors_origins.end()) {
            res.set_header("Access-Control-Allow-Origin", origin);
            res.set_header("Vary", "Origin");
        } else {
            return;
        }
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id");
        res.set_header("Access-Control-Expose-Headers", "X-Request-Id, X-Lmx-Served-By");
    }

    ServerOptions opts_;
    ModelPool pool_;
    EmbeddingModels embeddings_;
    std::optional<Fallback> fallback_;
    Metrics metrics_;
    httplib::Server svr_;
    std::atomic<bool> draining_{false};
    std::atomic<int> in_flight_{0};
};

}  // namespace

void serve(const ServerOptions& opts) { Server(opts).run(); }

}  // namespace lmx::server
