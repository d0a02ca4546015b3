#include "runtime/generator.hpp"

#include <chrono>
#include <utility>

#include "base/error.hpp"

namespace lmx {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Holds back text that might be the start of a stop string, so a stop string is
// never partly printed.
class StopFilter {
public:
    explicit StopFilter(const std::vector<std::string>& stops) : stops_(stops) {}

    // Returns the text that is final; sets `stopped` when a stop string was completed.
    std::string push(std::string_view text, bool& stopped) {
        pending_ += text;
        size_t cut = std::string::npos;
        for (const std::string& s : stops_) {
            if (s.empty()) continue;
            size_t at = pending_.find(s);
            if (at != std::string::npos && at < cut) cut = at;
        }
        if (cut != std::string::npos) {
            stopped = true;
            std::string out = pending_.substr(0, cut);
            pending_.clear();
            return out;
        }
        size_t keep = 0;  // longest suffix of pending_ that is a prefix of a stop string
        for (const std::string& s : stops_)
            for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), pending_.size()); n > keep; n--)
                if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) { keep = n; break; }
        std::string out = pending_.substr(0, pending_.size() - keep);
        pending_.erase(0, pending_.size() - keep);
        return out;
    }
    std::string flush() { return std::exchange(pending_, {}); }

private:
    const std::vector<std::string>& stops_;
    std::string pending_;
};

}  // namespace

GenerateResult generate(Session& session, std::string_view prompt, const GenerateOptions& opts, const TextCallback& on_text) {
    const Model& model = session.model();
    const Tokenizer& tok = model.tokenizer();
    const int32_t n_vocab = model.config().n_vocab;
    GenerateResult r;
    r.prompt_tokens = tok.encode(prompt, opts.add_special, opts.parse_special);
    const int64_t n_prompt = static_cast<int64_t>(r.prompt_tokens.size());
    if (n_prompt == 0) fail("the prompt is empty and the model adds no BOS token: give a prompt");
    if (n_prompt >= session.n_ctx())
        fail("the prompt has ", n_prompt, " tokens but the context holds ", session.n_ctx(), ": raise it with -c or shorten the prompt");
    if (opts.n_batch <= 0) fail("batch size must be positive");

    Sampler sampler(opts.sampling);
    for (int32_t t : r.prompt_tokens) sampler.accept(t);

    auto t0 = Clock::now();
    Batch batch;
    const float* logits = nullptr;
    for (int64_t i = 0; i < n_prompt; i += opts.n_batch) {
        batch.clear();
        const int64_t end = std::min<int64_t>(n_prompt, i + opts.n_batch);
        for (int64_t j = i; j < end; j++)
            batch.add(r.prompt_tokens[static_cast<size_t>(j)], static_cast<int32_t>(j), 0, j == n_prompt - 1);
        logits = session.decode(batch).data();
    }
    r.prompt_ms = ms_since(t0);

    t0 = Clock::now();
    StreamDecoder stream(tok);
    StopFilter stop(opts.stop);
    bool stopped = false, cancelled = false;
    auto emit = [&](const std::string& s) {
        if (s.empty()) return;
        r.text += s;
        if (on_text && !on_text(s)) cancelled = true;
    };
    int64_t pos = n_prompt;
    r.finish_reason = "length";
    while (static_cast<int>(r.tokens.size()) < opts.max_tokens && !stopped && !cancelled) {
        const int32_t next = sampler.sample(logits, n_vocab);
        if (tok.is_end_of_generation(next)) { r.finish_reason = "stop"; break; }
        r.tokens.push_back(next);
        emit(stop.push(stream.push(next), stopped));
        if (stopped) { r.finish_reason = "stop"; break; }
        if (pos >= session.n_ctx()) break;  // context full
        if (static_cast<int>(r.tokens.size()) == opts.max_tokens) break;
        batch.clear();
        batch.add(next, static_cast<int32_t>(pos++), 0, true);
        logits = session.decode(batch).data();
    }
    if (!stopped) emit(stop.push(stream.flush(), stopped));
    if (!stopped) emit(stop.flush());
    r.generate_ms = ms_since(t0);
    return r;
}

}  // namespace lmx
