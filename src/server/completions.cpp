#include "server/completions.hpp"

#include "server/client_socket.hpp"

#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

namespace lmx::server {

using nlohmann::json;

namespace {

// Pieces and the outcome of one request, from the scheduler's thread to the HTTP one.
struct Channel {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Piece> pieces;
    std::optional<Outcome> done;
    bool abandoned = false;  // the client went away: the next piece cancels the request
};

std::string random_hex(size_t n) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) s += digits[rng() % 16];
    return s;
}

std::string token_string(const Tokenizer& tok, int32_t id) {
    std::string s = tok.token_bytes(id);
    return s.empty() ? std::string(tok.token_text(id)) : s;
}

json bytes_of(const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(c);
    return b;
}

json chat_logprobs(const Tokenizer& tok, const std::vector<SampledToken>& tokens) {
    json content = json::array();
    for (const SampledToken& t : tokens) {
        const std::string s = token_string(tok, t.token.id);
        json top = json::array();
        for (const TokenLogprob& x : t.top) {
            const std::string ts = token_string(tok, x.id);
            top.push_back({{"token", ts}, {"logprob", x.logprob}, {"bytes", bytes_of(ts)}});
        }
        content.push_back({{"token", s}, {"logprob", t.token.logprob}, {"bytes", bytes_of(s)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
}

// The legacy completions shape; text_offset counts bytes from the start of the completion.
json text_logprobs(const Tokenizer& tok, const std::vector<SampledToken>& tokens, size_t& offset) {
    json j = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()}, {"text_offset", json::array()}};
    for (const SampledToken& t : tokens) {
        const std::string s = token_string(tok, t.token.id);
        j["tokens"].push_back(s);
        j["token_logprobs"].push_back(t.token.logprob);
        json top = json::object();
        for (const TokenLogprob& x : t.top) top[token_string(tok, x.id)] = x.logprob;
        j["top_logprobs"].push_back(top);
        j["text_offset"].push_back(offset);
        offset += tok.token_bytes(t.token.id).size();
    }
    return j;
}

json usage_of(const Outcome& o) {
    return {{"prompt_tokens", o.prompt_tokens},
            {"completion_tokens", o.tokens.size()},
            {"total_tokens", o.prompt_tokens + o.tokens.size()},
            {"prompt_tokens_details", {{"cached_tokens", o.cached_tokens}}}};
}

// The request's response envelope: what every chunk and the full response share.
struct Envelope {
    Endpoint kind;
    std::string id, model;
    int64_t created;
    json make(const char* chat_object, const char* text_object) const {
        return {{"id", id}, {"object", kind == Endpoint::chat ? chat_object : text_object}, {"created", created}, {"model", model},
                {"system_fingerprint", "lmx-0.1.0"}};
    }
};

// Shutdown or timeout ended the request: say so instead of pretending it finished.
ApiError interrupted(const Outcome& o, std::chrono::seconds timeout, bool timed_out) {
    if (o.finish_reason == "error") return ApiError(500, "generation failed: " + o.error, "server_error");
    if (timed_out)
        return ApiError(504, "the generation took longer than the server's timeout of " + std::to_string(timeout.count()) +
                                 " s: ask for fewer tokens", "server_error", "timeout");
    return ApiError(503, "the server is shutting down: retry on another instance", "server_error", "shutting_down");
}

std::vector<int32_t> checked(const Engine& engine, std::vector<int32_t> prompt, const Generation& gen) {
    const int64_t n_ctx = engine.scheduler().options().n_ctx;
    const auto n = static_cast<int64_t>(prompt.size());
    if (n == 0) throw ApiError(400, "the prompt is empty", "invalid_request_error", {}, "prompt");
    const int64_t want = n + gen.max_tokens.value_or(1);
    if (want > n_ctx)
        throw ApiError(400,
                       "this model's maximum context length is " + std::to_string(n_ctx) + " tokens, but the request needs " +
                           std::to_string(want) + " (" + std::to_string(n) + " in the prompt, " + std::to_string(want - n) +
                           " to generate): shorten the prompt or lower max_tokens",
                       "invalid_request_error", "context_length_exceeded", "messages");
    return prompt;
}

}  // namespace

std::vector<int32_t> chat_prompt(const Engine& engine, const ChatRequest& r) {
    // The template writes BOS itself (bos_token), as transformers' apply_chat_template does.
    return checked(engine, engine.model().tokenizer().encode(engine.render_chat(r.messages), false, true), r.gen);
}

std::vector<int32_t> text_prompt(const Engine& engine, const CompletionRequest& r) {
    return checked(engine, engine.model().tokenizer().encode(r.prompt, true, true), r.gen);
}

void serve_generation(std::shared_ptr<Engine> engine, Endpoint kind, const Generation& gen, std::vector<int32_t> prompt,
                      const httplib::Request& req, httplib::Response& res, GenerationContext ctx) {
    Scheduler& sched = engine->scheduler();
    auto ch = std::make_shared<Channel>();
    Request r;
    r.max_tokens = gen.max_tokens.value_or(static_cast<int>(sched.options().n_ctx - static_cast<int64_t>(prompt.size())));
    r.prompt = std::move(prompt);
    r.stop = gen.stop;
    SamplingParams& sp = r.sampling;
    // OpenAI samples with temperature and top-p only; top_p 0 keeps just the most likely token.
    sp.temperature = gen.top_p == 0 ? 0 : gen.temperature;
    sp.top_p = gen.top_p == 0 ? 1 : gen.top_p;
    sp.top_k = 0;
    sp.min_p = 0;
    sp.presence_penalty = gen.presence_penalty;
    sp.frequency_penalty = gen.frequency_penalty;
    sp.seed = gen.seed ? *gen.seed : std::random_device{}();
    r.top_logprobs = gen.top_logprobs;
    r.on_piece = [ch](const Piece& p) {
        std::lock_guard lock(ch->mu);
        if (ch->abandoned) return false;
        ch->pieces.push_back(p);
        ch->cv.notify_all();
        return true;
    };
    r.on_done = [ch](const Outcome& o) {
        std::lock_guard lock(ch->mu);
        ch->done = o;
        ch->cv.notify_all();
    };
    const auto id = sched.submit(std::move(r));
    if (!id)
        throw ApiError(429, "model '" + engine->name() + "' has " + std::to_string(sched.options().max_queued) +
                                " requests waiting already: retry in a moment", "rate_limit_error", "queue_full");

    const Envelope env{kind, (kind == Endpoint::chat ? "chatcmpl-" : "cmpl-") + random_hex(24), engine->name(), static_cast<int64_t>(std::time(nullptr))};
    const auto deadline = std::chrono::steady_clock::now() + ctx.timeout;
    const Tokenizer& tok = engine->model().tokenizer();
    auto finished = [engine, ctx](const Outcome& o) {
        ctx.metrics.generation(engine->name(), o.prompt_tokens, o.cached_tokens, o.tokens.size(), o.ttft_ms / 1000);
        if (ctx.log) ctx.log({engine->name(), o.prompt_tokens, o.cached_tokens, o.tokens.size(), o.finish_reason});
    };

    if (!gen.stream) {
        // Wait for the outcome, looking every 100 ms whether the client is still there: one
        // that went away frees its slot at once, as a dropped stream does.
        const ClientSocket client(req);
        std::unique_lock lock(ch->mu);
        bool timed_out = false, gone = false;
        while (!ch->done) {
            const auto next = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
            if (ch->cv.wait_until(lock, next, [&] { return ch->done.has_value(); })) break;
            timed_out = std::chrono::steady_clock::now() >= deadline;
            gone = client.closed();
            if (timed_out || gone) {
                ch->abandoned = gone;
                sched.cancel(*id);
                ch->cv.wait(lock, [&] { return ch->done.has_value(); });
            }
        }
        const Outcome o = *ch->done;
        finished(o);
        if (gone) return;  // nobody to answer
        if (o.finish_reason != "stop" && o.finish_reason != "length") throw interrupted(o, ctx.timeout, timed_out);
        std::vector<SampledToken> lp;
        for (const Piece& p : ch->pieces) lp.insert(lp.end(), p.tokens.begin(), p.tokens.end());
        json choice;
        if (kind == Endpoint::chat) {
            choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", o.text}}},
                      {"logprobs", gen.top_logprobs >= 0 ? chat_logprobs(tok, lp) : json(nullptr)}, {"finish_reason", o.finish_reason}};
        } else {
            size_t offset = 0;
            choice = {{"index", 0}, {"text", o.text},
                      {"logprobs", gen.top_logprobs >= 0 ? text_logprobs(tok, lp, offset) : json(nullptr)}, {"finish_reason", o.finish_reason}};
        }
        json body = env.make("chat.completion", "text_completion");
        body["choices"] = json::array({choice});
        body["usage"] = usage_of(o);
        res.set_content(dump(body), "application/json");
        return;
    }

    res.set_header("Cache-Control", "no-cache");
    auto provider = [engine, ch, id = *id, env, gen, ctx, deadline, finished, text_offset = size_t{0}, started = false](
                        size_t, httplib::DataSink& sink) mutable {
        const Tokenizer& tok = engine->model().tokenizer();
        auto send = [&](const json& j) {
            const std::string line = "data: " + dump(j) + "\n\n";
            return sink.write(line.data(), line.size());
        };
        auto chunk = [&](json delta_or_text, json logprobs, json finish) {
            json c = env.make("chat.completion.chunk", "text_completion");
            json choice = {{"index", 0}};
            if (env.kind == Endpoint::chat) choice["delta"] = std::move(delta_or_text);
            else choice["text"] = std::move(delta_or_text);
            choice["logprobs"] = std::move(logprobs);
            choice["finish_reason"] = std::move(finish);
            c["choices"] = json::array({choice});
            if (gen.include_usage) c["usage"] = nullptr;
            return c;
        };
        auto give_up = [&] {
            std::lock_guard lock(ch->mu);
            ch->abandoned = true;
            engine->scheduler().cancel(id);
            return false;
        };
        if (!started && env.kind == Endpoint::chat && !send(chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr))) return give_up();
        started = true;
        bool timed_out = false;
        for (;;) {
            std::deque<Piece> pieces;
            std::optional<Outcome> done;
            {
                std::unique_lock lock(ch->mu);
                auto ready = [&] { return !ch->pieces.empty() || ch->done; };
                if (timed_out) {
                    ch->cv.wait(lock, ready);
                } else if (!ch->cv.wait_until(lock, deadline, ready)) {
                    timed_out = true;
                    engine->scheduler().cancel(id);
                    continue;
                }
                pieces.swap(ch->pieces);
                done = ch->done;
            }
            for (const Piece& p : pieces) {
                json lp = nullptr;
                if (gen.top_logprobs >= 0) lp = env.kind == Endpoint::chat ? chat_logprobs(tok, p.tokens) : text_logprobs(tok, p.tokens, text_offset);
                json content = env.kind == Endpoint::chat ? json{{"content", p.text}} : json(p.text);
                if (!send(chunk(content, lp, nullptr))) return give_up();
            }
            if (!done) {
                if (!sink.is_writable()) return give_up();
                continue;
            }
            finished(*done);
            if (done->finish_reason != "stop" && done->finish_reason != "length") {
                if (!send(interrupted(*done, ctx.timeout, timed_out).body())) return false;
            } else {
                if (!send(chunk(env.kind == Endpoint::chat ? json::object() : json(""), nullptr, done->finish_reason))) return false;
                if (gen.include_usage) {
                    json u = env.make("chat.completion.chunk", "text_completion");
                    u["choices"] = json::array();
                    u["usage"] = usage_of(*done);
                    if (!send(u)) return false;
                }
            }
            static const std::string kDone = "data: [DONE]\n\n";
            if (!sink.write(kDone.data(), kDone.size())) return false;
            sink.done();
            return true;
        }
    };
    auto releaser = [engine, ch, id = *id, in_flight = ctx.in_flight](bool success) {
        if (success) return;
        std::lock_guard lock(ch->mu);
        ch->abandoned = true;
        engine->scheduler().cancel(id);
    };
    res.set_chunked_content_provider("text/event-stream", std::move(provider), std::move(releaser));
}

}  // namespace lmx::server
