#include "runtime/generator.hpp"

#include <chrono>

#include "base/error.hpp"
#include "runtime/stop_filter.hpp"

namespace lmx {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

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
