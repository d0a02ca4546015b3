#pragma once
// Chat and text completions on a local Engine: the prompt goes to the engine's
// scheduler, and the outcome comes back as one OpenAI JSON response or as an SSE
// stream of chunks ending with `data: [DONE]`.
#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/api.hpp"
#include "server/metrics.hpp"
#include "server/model_pool.hpp"

namespace lmx::server {

// What the request log line reports about a generation.
struct GenerationLog {
    std::string model;
    size_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
    std::string finish_reason;
};

struct GenerationContext {
    Metrics& metrics;
    std::chrono::seconds timeout;        // a generation running longer is cancelled
    std::shared_ptr<void> in_flight;     // held until the response is complete (graceful shutdown waits for it)
    std::function<void(const GenerationLog&)> log;  // called once the generation ended
};

enum class Endpoint { chat, text };

// The prompt for a request, checked against the engine's context: throws ApiError 400
// (context_length_exceeded) when prompt + max_tokens do not fit in a slot.
std::vector<int32_t> chat_prompt(const Engine& engine, const ChatRequest& r);
std::vector<int32_t> text_prompt(const Engine& engine, const CompletionRequest& r);

// Submits and answers. Throws ApiError 429 (with the retry hint in the message) when
// the engine's queue is full, before anything was written to res. A client that goes
// away (a stream it stops reading, a connection it closes while waiting for the whole
// answer) has its request cancelled, which frees the slot.
void serve_generation(std::shared_ptr<Engine> engine, Endpoint kind, const Generation& gen, std::vector<int32_t> prompt,
                      const httplib::Request& req, httplib::Response& res, GenerationContext ctx);

}  // namespace lmx::server
