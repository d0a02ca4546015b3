#include "runtime/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/error.hpp"
#include "runtime/stop_filter.hpp"

namespace lmx {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// The sampled token's log-probability and the n most likely tokens', from raw logits.
SampledToken logprobs_of(const float* logits, int32_t n_vocab, int32_t chosen, int n_top) {
    float max_l = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++) max_l = std::max(max_l, logits[i]);
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; i++) sum += std::exp(static_cast<double>(logits[i] - max_l));
    const double log_z = max_l + std::log(sum);
    auto lp = [&](int32_t id) { return TokenLogprob{id, static_cast<float>(logits[id] - log_z)}; };
    SampledToken s{lp(chosen), {}};
    if (n_top > 0) {
        std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
        for (int32_t i = 0; i < n_vocab; i++) ids[static_cast<size_t>(i)] = i;
        const size_t k = std::min<size_t>(static_cast<size_t>(n_top), ids.size());
        std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), [&](int32_t a, int32_t b) {
            return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
        });
        for (size_t i = 0; i < k; i++) s.top.push_back(lp(ids[i]));
    }
    return s;
}

}  // namespace

struct Scheduler::Running {
    Running(Id id_, Request req, const Tokenizer& tok, Clock::time_point t0)
        : id(id_), r(std::move(req)), sampler(r.sampling), stream(tok), stop(r.stop), submitted(t0) {}
    Id id;
    Request r;
    Sampler sampler;
    StreamDecoder stream;
    StopFilter stop;
    Clock::time_point submitted;
    int32_t next = -1;  // sampled, to be decoded in the next step; -1 while the prompt is processed
    uint64_t admitted = 0;  // admission order: earlier requests get prompt chunks first
    Piece pending;          // logprobs waiting for the text they belong to
    size_t logprob_bytes = 0;  // the token bytes of the logprobs streamed so far
    Outcome out;
};

Scheduler::Scheduler(std::shared_ptr<const Model> model, const SchedulerOptions& opts)
    : opts_(opts), session_(std::move(model), {opts.n_threads, opts.n_ctx, opts.n_slots}) {
    if (opts.n_slots <= 0) fail("the scheduler needs at least one slot, got ", opts.n_slots);
    if (opts.n_batch <= 0) fail("batch size must be positive, got ", opts.n_batch);
    slots_.resize(static_cast<size_t>(opts.n_slots));
    for (int i = 0; i < opts.n_slots; i++) slots_[static_cast<size_t>(i)].seq = i;
    stats_.n_slots = opts.n_slots;
    stats_.kv_capacity = static_cast<int64_t>(opts.n_slots) * opts.n_ctx;
}

Scheduler::~Scheduler() = default;

std::optional<Scheduler::Id> Scheduler::submit(Request r) {
    const auto n = static_cast<int64_t>(r.prompt.size());
    if (n == 0) fail("the prompt is empty: give at least one token");
    if (n >= opts_.n_ctx)
        fail("the prompt has ", n, " tokens but a slot's context holds ", opts_.n_ctx, ": shorten the prompt or raise the context size");
    if (r.max_tokens <= 0) fail("max tokens must be positive, got ", r.max_tokens);
    const int32_t n_vocab = model().config().n_vocab;
    for (int32_t t : r.prompt)
        if (t < 0 || t >= n_vocab) fail("prompt token id ", t, " is outside the vocabulary (0..", n_vocab - 1, ")");
    Sampler check(r.sampling);  // invalid sampling parameters fail here, not in the driving thread
    std::lock_guard lock(mu_);
    if (queue_.size() >= opts_.max_queued) return std::nullopt;
    const Id id = next_id_++;
    queue_.push_back({id, std::move(r), Clock::now()});
    stats_.queued = queue_.size();
    work_.notify_all();
    return id;
}

void Scheduler::cancel(Id id) {
    std::lock_guard lock(mu_);
    cancelled_.insert(id);
    work_.notify_all();
}

void Scheduler::cancel_all() {
    std::lock_guard lock(mu_);
    cancel_all_ = true;
    work_.notify_all();
}

void Scheduler::wait_for_work(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    work_.wait_for(lock, timeout, [&] { return !queue_.empty() || !cancelled_.empty() || cancel_all_ || stats_.active > 0; });
}

SchedulerStats Scheduler::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

Scheduler::Slot& Scheduler::pick_slot(const std::vector<int32_t>& prompt) {
    Slot* best = nullptr;
    size_t best_common = 0;
    for (Slot& s : slots_) {
        if (s.req) continue;
        size_t common = 0;
        while (common < s.cached.size() && common < prompt.size() && s.cached[common] == prompt[common]) common++;
        if (!best || common > best_common || (common == best_common && s.last_used < best->last_used)) {
            best = &s;
            best_common = common;
        }
    }
    LMX_ASSERT(best != nullptr);
    return *best;
}

void Scheduler::admit(Queued q) {
    Slot& s = pick_slot(q.r.prompt);
    const Tokenizer& tok = model().tokenizer();
    auto run = std::make_unique<Running>(q.id, std::move(q.r), tok, q.submitted);
    // Keep the shared prefix, but always decode the last prompt token again for its logits.
    size_t keep = 0;
    const std::vector<int32_t>& prompt = run->r.prompt;
    while (keep < s.cached.size() && keep < prompt.size() && s.cached[keep] == prompt[keep]) keep++;
    keep = std::min(keep, prompt.size() - 1);
    s.cached.resize(keep);
    for (int32_t t : prompt) run->sampler.accept(t);
    run->out.prompt_tokens = prompt.size();
    run->out.cached_tokens = keep;
    run->out.queue_ms = ms_between(q.submitted, Clock::now());
    run->admitted = ++clock_;
    s.last_used = clock_;
    s.req = std::move(run);
}

void Scheduler::finish(Slot& s, std::string reason, std::vector<Finished>& done) {
    Running& run = *s.req;
    run.out.finish_reason = std::move(reason);
    run.out.total_ms = ms_between(run.submitted, Clock::now());
    done.emplace_back(std::move(run.r), std::move(run.out));
    s.req.reset();
    s.last_used = ++clock_;
}

// Samples the request's next token from its logits row and streams what became final.
void Scheduler::sample_into(Slot& s, const float* logits, std::vector<Finished>& done) {
    Running& run = *s.req;
    const Tokenizer& tok = model().tokenizer();
    const int32_t n_vocab = model().config().n_vocab;
    const int32_t t = run.sampler.sample(logits, n_vocab);
    if (run.out.tokens.empty()) run.out.ttft_ms = ms_between(run.submitted, Clock::now());
    const bool eog = tok.is_end_of_generation(t);
    bool stopped = false;
    std::string text;
    if (!eog) {
        run.out.tokens.push_back(t);
        if (run.r.top_logprobs >= 0) run.pending.tokens.push_back(logprobs_of(logits, n_vocab, t, run.r.top_logprobs));
        text = run.stop.push(run.stream.push(t), stopped);
    }
    std::string reason;
    if (eog || stopped) reason = "stop";
    else if (static_cast<int>(run.out.tokens.size()) >= run.r.max_tokens) reason = "length";
    else if (static_cast<int64_t>(s.cached.size()) >= opts_.n_ctx) reason = "length";  // no position left for it
    if (!reason.empty() && !stopped) {
        text += run.stop.push(run.stream.flush(), stopped);
        if (!stopped) text += run.stop.flush();
    }
    run.pending.text += text;
    run.out.text += text;
    if (stopped) {  // the tokens that only spelled the dropped stop string get no logprobs
        size_t kept = 0, at = run.logprob_bytes;
        while (kept < run.pending.tokens.size() && at < run.out.text.size())
            at += tok.token_bytes(run.pending.tokens[kept++].token.id).size();
        run.pending.tokens.resize(kept);
    }
    // Logprobs of a token whose text is held back wait for it, unless the request ends.
    const bool emit = !run.pending.text.empty() || (!reason.empty() && !run.pending.tokens.empty());
    if (emit && run.r.on_piece) {
        if (!run.r.on_piece(run.pending)) reason = "cancelled";
    }
    if (emit) {
        for (const SampledToken& st : run.pending.tokens) run.logprob_bytes += tok.token_bytes(st.token.id).size();
        run.pending = Piece{};
    }
    if (!reason.empty()) {
        finish(s, reason, done);
        return;
    }
    run.next = t;
}

bool Scheduler::step() {
    std::vector<Finished> done;
    bool any = false;
    {
        std::lock_guard lock(mu_);
        if (std::exchange(cancel_all_, false)) {
            for (const Queued& q : queue_) cancelled_.insert(q.id);
            for (const Slot& s : slots_)
                if (s.req) cancelled_.insert(s.req->id);
        }
        for (Id id : cancelled_) {
            auto q = std::find_if(queue_.begin(), queue_.end(), [&](const Queued& x) { return x.id == id; });
            if (q != queue_.end()) {
                Outcome o;
                o.finish_reason = "cancelled";
                o.prompt_tokens = q->r.prompt.size();
                o.total_ms = ms_between(q->submitted, Clock::now());
                done.emplace_back(std::move(q->r), std::move(o));
                queue_.erase(q);
                continue;
            }
            for (Slot& s : slots_)
                if (s.req && s.req->id == id) finish(s, "cancelled", done);
        }
        cancelled_.clear();
        auto has_free = [&] { return std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.req; }); };
        while (!queue_.empty() && has_free()) {
            Queued q = std::move(queue_.front());
            queue_.pop_front();
            admit(std::move(q));
        }
        publish_stats();
    }

    // Build the batch: one token per generating request, then prompt chunks in admission order.
    Batch batch;
    std::vector<Slot*> rows;  // the slot of each logits row
    for (Slot& s : slots_) {
        if (!s.req || s.req->next < 0) continue;
        batch.add(s.req->next, static_cast<int32_t>(s.cached.size()), s.seq, true);
        rows.push_back(&s);
    }
    std::vector<Slot*> prefilling;
    for (Slot& s : slots_)
        if (s.req && s.req->next < 0) prefilling.push_back(&s);
    std::sort(prefilling.begin(), prefilling.end(), [](const Slot* a, const Slot* b) { return a->req->admitted < b->req->admitted; });
    for (Slot* s : prefilling) {
        const std::vector<int32_t>& prompt = s->req->r.prompt;
        const size_t from = s->cached.size();
        size_t budget = static_cast<size_t>(std::max(0, opts_.n_batch - static_cast<int>(batch.size())));
        if (budget == 0) break;
        const size_t to = std::min(prompt.size(), from + budget);
        for (size_t j = from; j < to; j++) batch.add(prompt[j], static_cast<int32_t>(j), s->seq, j + 1 == prompt.size());
        if (to == prompt.size()) rows.push_back(s);
    }

    if (batch.size() > 0) {
        any = true;
        // Rows come out in batch order: generating slots first, then the slots whose prompt ended.
        try {
            const std::vector<float>& logits = session_.decode(batch);
            for (size_t i = 0; i < batch.size(); i++) slots_[static_cast<size_t>(batch.seq_ids[i])].cached.push_back(batch.tokens[i]);
            const auto n_vocab = static_cast<size_t>(model().config().n_vocab);
            for (size_t i = 0; i < rows.size(); i++) sample_into(*rows[i], logits.data() + i * n_vocab, done);
        } catch (const Error& e) {
            for (Slot& s : slots_) {
                if (!s.req) continue;
                s.req->out.error = e.what();
                s.cached.clear();  // what reached the cache is unknown
                finish(s, "error", done);
            }
        }
        std::lock_guard lock(mu_);
        publish_stats();
    }

    for (auto& [r, o] : done)
        if (r.on_done) r.on_done(o);
    return any || !done.empty();
}

void Scheduler::publish_stats() {
    stats_.active = 0;
    stats_.kv_used = 0;
    for (const Slot& s : slots_) {
        if (!s.req) continue;
        stats_.active++;
        stats_.kv_used += static_cast<int64_t>(s.cached.size());
    }
    stats_.queued = queue_.size();
}

}  // namespace lmx
