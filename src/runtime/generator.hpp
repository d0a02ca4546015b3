#pragma once
// Text generation on one sequence of a Session: prompt processing in batches,
// then token-by-token decoding with sampling, streaming UTF-8-safe text and
// honouring stop strings.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.hpp"
#include "runtime/session.hpp"

namespace lmx {

struct GenerateOptions {
    int max_tokens = 128;
    std::vector<std::string> stop;  // generation ends before the first occurrence of any
    SamplingParams sampling;
    bool add_special = true;        // BOS/EOS as the model's metadata says
    bool parse_special = true;      // "<|im_start|>" in the prompt is the control token
    int n_batch = 512;              // prompt tokens per forward pass
};

struct GenerateResult {
    std::string text;
    std::vector<int32_t> prompt_tokens, tokens;  // tokens: generated ids
    std::string finish_reason;  // "stop" (EOS or stop string), "length" (max tokens or context full)
    double prompt_ms = 0, generate_ms = 0;
};

// on_text receives text as it becomes final; returning false stops generation.
using TextCallback = std::function<bool(std::string_view)>;

GenerateResult generate(Session& session, std::string_view prompt, const GenerateOptions& opts,
                        const TextCallback& on_text = nullptr);

}  // namespace lmx
