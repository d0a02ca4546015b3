// libFuzzer target for the chat-template engine: the input is a template, parsed and
// rendered over a small conversation with tight step/size limits. Any lmx::Error is
// fine; crashes, hangs, leaks and UB are not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.hpp"
#include "tokenizer/chat_template/chat_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(R"({
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi \"there\" é"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call12345", "type": "function",
                "function": {"name": "f", "arguments": {"a": 1, "b": [2.5, true, null]}}}]},
            {"role": "tool", "tool_call_id": "call12345", "content": "42"}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d",
            "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}],
        "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"
    })");
    lmx::ChatTemplateOptions opts;
    opts.max_steps = 20000;
    opts.max_output = 1 << 16;
    std::tm tm{};
    opts.now = tm;
    try {
        const lmx::ChatTemplate t(std::string_view(reinterpret_cast<const char*>(data), size));
        t.render(context, opts);
    } catch (const lmx::Error&) {
    }
    return 0;
}
