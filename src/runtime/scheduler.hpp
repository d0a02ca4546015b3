#pragma once
// Continuous batching: many requests share one Session. Each step() is one batched
// forward pass holding the next token of every request that is generating plus
// chunks of the prompts being processed (chunked prefill: a long prompt takes
// n_batch tokens per step and never stalls the others). A request runs in a KV-cache
// slot (seq_id); beyond n_slots requests wait in a queue, beyond max_queued submit
// refuses. A finished request leaves its tokens in its slot, and the next request
// takes the free slot whose cached tokens share the longest prefix with its prompt
// (the next turn of a chat re-decodes only the new tokens).
//
// Thread safety: submit(), cancel(), stats() and wait_for_work() may be called from
// any thread; step() from one driving thread, which also runs the callbacks.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/sampler.hpp"
#include "runtime/session.hpp"

namespace lmx {

struct SchedulerOptions {
    int n_slots = 4;         // requests decoding at once (KV-cache slots)
    int64_t n_ctx = 2048;    // positions per slot: prompt + generated tokens
    int n_threads = 0;       // 0: all hardware threads
    int n_batch = 256;       // tokens per forward pass: generating requests first, then prompt chunks
    size_t max_queued = 64;  // waiting requests beyond which submit() refuses
};

struct TokenLogprob {
    int32_t id;
    float logprob;  // natural log of the model's probability (softmax of the raw logits)
};

struct SampledToken {
    TokenLogprob token;
    std::vector<TokenLogprob> top;  // the most likely tokens, most likely first
};

// A piece of streamed output: text that is final (a possible stop string is held
// back until it is decided) and, when logprobs were asked for, the tokens sampled
// since the previous piece.
struct Piece {
    std::string text;
    std::vector<SampledToken> tokens;
};

struct Outcome {
    std::string finish_reason;  // "stop" (end of generation or stop string), "length", "cancelled", "error"
    std::string error;          // for "error": what went wrong
    std::string text;           // everything streamed
    std::vector<int32_t> tokens;  // generated ids (the end-of-generation token is not one)
    size_t prompt_tokens = 0, cached_tokens = 0;  // cached: prompt tokens reused from the slot's cache
    double queue_ms = 0, ttft_ms = 0, total_ms = 0;  // from submit() to admission, first token, end
};

struct Request {
    std::vector<int32_t> prompt;
    int max_tokens = 128;
    std::vector<std::string> stop;
    SamplingParams sampling;
    int top_logprobs = -1;  // -1: no logprobs; n >= 0: the sampled token's and the n most likely
    std::function<bool(const Piece&)> on_piece;    // returning false cancels the request
    std::function<void(const Outcome&)> on_done;   // called exactly once, last
};

struct SchedulerStats {
    int n_slots = 0, active = 0;
    size_t queued = 0;
    int64_t kv_used = 0, kv_capacity = 0;  // positions holding a running request's tokens / all positions
};

class Scheduler {
public:
    using Id = uint64_t;

    Scheduler(std::shared_ptr<const Model> model, const SchedulerOptions& opts);
    ~Scheduler();  // requests still queued or running are dropped without callbacks

    // Queues the request. Throws lmx::Error for an empty prompt or one that leaves no
    // room to generate in the context; returns nothing when the queue is full.
    std::optional<Id> submit(Request r);
    // Ends a queued or running request: its slot is free for the next step and its
    // on_done gets "cancelled". Unknown or finished ids are ignored.
    void cancel(Id id);
    void cancel_all();  // every queued and running request, at the next step (shutdown)
    // Runs one forward pass (admitting queued requests into free slots first);
    // returns false when there was nothing to do.
    bool step();
    // Blocks until work may be waiting or the timeout passes.
    void wait_for_work(std::chrono::milliseconds timeout);

    SchedulerStats stats() const;
    const Model& model() const { return session_.model(); }
    const SchedulerOptions& options() const { return opts_; }

private:
    struct Running;
    struct Slot {
        int seq = 0;
        std::vector<int32_t> cached;  // tokens whose keys/values sit at positions 0.. of this slot
        std::unique_ptr<Running> req;
        uint64_t last_used = 0;
    };
    struct Queued {
        Id id;
        Request r;
        std::chrono::steady_clock::time_point submitted;
    };
    using Finished = std::pair<Request, Outcome>;

    void admit(Queued q);  // under mu_
    Slot& pick_slot(const std::vector<int32_t>& prompt);
    void sample_into(Slot& s, const float* logits, std::vector<Finished>& done);
    void finish(Slot& s, std::string reason, std::vector<Finished>& done);
    void publish_stats();

    SchedulerOptions opts_;
    Session session_;
    std::vector<Slot> slots_;
    uint64_t clock_ = 0;  // orders slot use for least-recently-used choice

    mutable std::mutex mu_;
    std::condition_variable work_;
    std::deque<Queued> queue_;
    std::set<Id> cancelled_;
    bool cancel_all_ = false;
    Id next_id_ = 1;
    SchedulerStats stats_;
};

}  // namespace lmx
