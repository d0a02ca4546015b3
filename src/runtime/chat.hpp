#pragma once
// Multi-turn chat over one sequence of a Session: the conversation is rendered with
// the model's own chat template (GGUF tokenizer.chat_template) each turn, and only the
// tokens after the prefix already in the KV cache are decoded again.
#include <string>
#include <string_view>
#include <vector>

#include "runtime/generator.hpp"
#include "runtime/session.hpp"
#include "tokenizer/chat_template/chat_template.hpp"

namespace lmx {

struct ChatMessage {
    std::string role;  // "system", "user", "assistant"
    std::string content;
};

struct ChatTurn {
    GenerateResult result;  // the reply (text, tokens, timings); prompt_tokens: the whole rendered conversation
    size_t reused_tokens = 0;  // prompt tokens whose keys/values were already cached
};

// The model's chat template; throws lmx::Error naming the file when it carries none.
std::string chat_template_source(const Model& model);

class ChatSession {
public:
    // Uses sequence 0 of `session`; `system` (if not empty) opens every conversation.
    ChatSession(Session& session, std::string system = {});

    // Appends the user message, renders the conversation with add_generation_prompt,
    // decodes what the cache lacks and streams the reply, which joins the history.
    // opts.stop, add_special and parse_special are not used: the template decides the
    // special tokens and the reply ends at the model's end-of-generation token.
    ChatTurn send(std::string_view user_text, const GenerateOptions& opts, const TextCallback& on_text = nullptr);

    void reset();  // forgets the conversation (the system prompt stays)
    // Replaces the conversation with one the caller keeps (any roles; the system prompt
    // given above is not added). The next send() reuses the cached prefix they share.
    void set_messages(std::vector<ChatMessage> messages) { history_ = std::move(messages); }
    const std::vector<ChatMessage>& messages() const { return history_; }
    std::string render(bool add_generation_prompt) const;  // the conversation as the template writes it

private:
    Session& session_;
    ChatTemplate template_;
    std::string system_, bos_, eos_;
    std::vector<ChatMessage> history_;
    std::vector<int32_t> cached_;  // tokens at positions 0.. of sequence 0 in the KV cache
};

}  // namespace lmx
