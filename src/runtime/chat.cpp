#include "runtime/chat.hpp"

#include <algorithm>
#include <chrono>

#include "base/error.hpp"

namespace lmx {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string token_text_or_empty(const Tokenizer& tok, int32_t id) { return id >= 0 ? std::string(tok.token_text(id)) : std::string(); }

}  // namespace

std::string chat_template_source(const Model& model) {
    const std::string src = model.chat_template();
    if (src.empty())
        fail(model.path(), " has no chat template (tokenizer.chat_template in GGUF metadata, chat_template in tokenizer_config.json): use a chat (instruct) model, or `lmx generate` with your own prompt format");
    return src;
}

ChatSession::ChatSession(Session& session, std::string system)
    : session_(session),
      template_(chat_template_source(session.model())),
      system_(std::move(system)),
      bos_(token_text_or_empty(session.model().tokenizer(), session.model().tokenizer().bos_id())),
      eos_(token_text_or_empty(session.model().tokenizer(), session.model().tokenizer().eos_id())) {
    reset();
}

void ChatSession::reset() {
    history_.clear();
    if (!system_.empty()) history_.push_back({"system", system_});
}

std::string ChatSession::render(bool add_generation_prompt) const {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    for (const ChatMessage& m : history_) messages.push_back({{"role", m.role}, {"content", m.content}});
    // The variables transformers passes to a chat template.
    const nlohmann::ordered_json ctx = {{"messages", messages},       {"tools", nullptr},
                                        {"documents", nullptr},       {"add_generation_prompt", add_generation_prompt},
                                        {"bos_token", bos_},          {"eos_token", eos_}};
    return template_.render(ctx);
}

ChatTurn ChatSession::send(std::string_view user_text, const GenerateOptions& opts, const TextCallback& on_text) {
    const Tokenizer& tok = session_.model().tokenizer();
    const int32_t n_vocab = session_.model().config().n_vocab;
    if (opts.n_batch <= 0) fail("batch size must be positive");
    history_.push_back({"user", std::string(user_text)});
    ChatTurn turn;
    GenerateResult& r = turn.result;
    try {
        // The template writes BOS itself (bos_token), as with transformers' apply_chat_template.
        r.prompt_tokens = tok.encode(render(true), /*add_special=*/false, /*parse_special=*/true);
    } catch (...) {
        history_.pop_back();
        throw;
    }
    const auto n_prompt = static_cast<int64_t>(r.prompt_tokens.size());
    if (n_prompt == 0) fail("the chat template rendered an empty prompt");
    if (n_prompt >= session_.n_ctx()) {
        history_.pop_back();
        fail("the conversation has ", n_prompt, " tokens but the context holds ", session_.n_ctx(),
             ": /reset it or raise the context size with -c");
    }

    // Reuse the cached prefix; the last prompt token is always decoded again for its logits.
    size_t keep = 0;
    while (keep < cached_.size() && keep < r.prompt_tokens.size() && cached_[keep] == r.prompt_tokens[keep]) keep++;
    keep = std::min(keep, r.prompt_tokens.size() - 1);
    turn.reused_tokens = keep;
    cached_.assign(r.prompt_tokens.begin(), r.prompt_tokens.begin() + static_cast<std::ptrdiff_t>(keep));

    Sampler sampler(opts.sampling);
    for (int32_t t : r.prompt_tokens) sampler.accept(t);
    auto t0 = Clock::now();
    Batch batch;
    const float* logits = nullptr;
    for (int64_t i = static_cast<int64_t>(keep); i < n_prompt; i += opts.n_batch) {
        batch.clear();
        const int64_t end = std::min<int64_t>(n_prompt, i + opts.n_batch);
        for (int64_t j = i; j < end; j++) batch.add(r.prompt_tokens[static_cast<size_t>(j)], static_cast<int32_t>(j), 0, j == n_prompt - 1);
        logits = session_.decode(batch).data();
        cached_.insert(cached_.end(), batch.tokens.begin(), batch.tokens.end());
    }
    r.prompt_ms = ms_since(t0);

    t0 = Clock::now();
    StreamDecoder stream(tok);
    bool cancelled = false;
    auto emit = [&](const std::string& s) {
        if (s.empty()) return;
        r.text += s;
        if (on_text && !on_text(s)) cancelled = true;
    };
    r.finish_reason = "length";
    while (static_cast<int>(r.tokens.size()) < opts.max_tokens && !cancelled) {
        const int32_t next = sampler.sample(logits, n_vocab);
        if (tok.is_end_of_generation(next)) {
            r.finish_reason = "stop";
            break;
        }
        r.tokens.push_back(next);
        emit(stream.push(next));
        const auto pos = static_cast<int64_t>(cached_.size());
        if (pos >= session_.n_ctx() || static_cast<int>(r.tokens.size()) == opts.max_tokens) break;
        batch.clear();
        batch.add(next, static_cast<int32_t>(pos), 0, true);
        logits = session_.decode(batch).data();
        cached_.push_back(next);
    }
    emit(stream.flush());
    r.generate_ms = ms_since(t0);
    history_.push_back({"assistant", r.text});
    return turn;
}

}  // namespace lmx
