#pragma once
// Jinja2 chat templates (tokenizer.chat_template in GGUF, chat_template in HF
// tokenizer_config.json), rendered byte-identically to Python jinja2 as HF transformers
// configures it: trim_blocks, lstrip_blocks, loop controls, an immutable sandbox, and
// the globals/filters transformers adds (raise_exception, strftime_now, tojson with
// ensure_ascii=False). Tested against jinja2 goldens (tools/gen_chat_template_goldens.py).
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace lmx {

namespace jinja {
struct Node;
}

struct ChatTemplateOptions {
    std::optional<std::tm> now;       // what strftime_now formats; default: the local time at render
    int64_t max_steps = 20'000'000;   // evaluation budget: a template that loops longer fails instead of hanging
    size_t max_output = 64u << 20;    // bytes a render (or any string it builds) may reach
};

class ChatTemplate {
public:
    // Parses the template; throws lmx::Error "chat template: line L, column C: ..." on syntax
    // errors, unknown tags, filters or tests.
    explicit ChatTemplate(std::string_view source);
    ~ChatTemplate();
    ChatTemplate(ChatTemplate&&) noexcept;
    ChatTemplate& operator=(ChatTemplate&&) noexcept;

    // context: the template's variables, e.g. {"messages": [...], "tools": null,
    // "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"}. Keys keep
    // their order (Python dicts do, and tojson shows it). Throws lmx::Error with the line and
    // column for errors while rendering, including the template's own raise_exception(...).
    std::string render(const nlohmann::ordered_json& context, const ChatTemplateOptions& opts = {}) const;

private:
    struct Program;
    std::unique_ptr<Program> program_;
};

}  // namespace lmx
