#pragma once
// Pre-tokenization: splitting text into the words BPE merges within, exactly as
// llama.cpp does for each tokenizer.ggml.pre. llama.cpp applies a list of regexes one
// after another, each one splitting every piece the previous ones produced (the pieces
// between matches become words too). The regexes are implemented here as hand-written
// matchers over the decoded characters: linear time, and no std::regex (no \p classes,
// slow, not available the same way everywhere).
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.hpp"

namespace lmx {

enum class PreTokenizer {
    Default,        // llama.cpp's fallback regex list
    Gpt2,           // gpt-2, mpt, olmo, ...: the GPT-2 regex
    StarCoder,      // starcoder, smollm, refact, command-r, ...: digits one by one, then GPT-2
    Llama3,         // llama3 / llama-bpe, dbrx, smaug, glm4: digits in groups of up to three
    Qwen2,          // qwen2, stablelm2, ...: the llama3 regex with single digits
    DeepSeekCoder,  // deepseek-coder
};

// The pre-tokenizer llama.cpp uses for a tokenizer.ggml.pre value; nullopt when unsupported.
std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name);

// Word boundaries: word i is chars [ends[i-1], ends[i]) (ends[-1] = 0).
std::vector<size_t> pre_tokenize(PreTokenizer pre, const std::vector<unicode::Char>& chars);

}  // namespace lmx
