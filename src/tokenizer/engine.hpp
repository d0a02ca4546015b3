#pragma once
// What a Tokenizer delegates to: one engine per family of semantics (llama.cpp's for
// GGUF vocabularies, HF `tokenizers`' for tokenizer.json), all over one Vocab.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lmx {

namespace gguf {
class File;
}
struct Vocab;

class TokenizerEngine {
public:
    virtual ~TokenizerEngine() = default;
    virtual void encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const = 0;
    // Raw bytes: a character split across tokens stays split when the ids are.
    virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special) const = 0;
    // The bytes one token contributes in the middle of a text ("" for control tokens).
    virtual std::string piece(int32_t id) const = 0;
};

// The engines for tokenizer.ggml.model "gpt2", "llama" and "bert"; each fills vocab.
std::unique_ptr<TokenizerEngine> gguf_bpe_engine(const gguf::File& f, Vocab& vocab);
std::unique_ptr<TokenizerEngine> gguf_spm_engine(const gguf::File& f, Vocab& vocab);
std::unique_ptr<TokenizerEngine> gguf_wpm_engine(const gguf::File& f, Vocab& vocab);

// A tokenizer.json (and the tokenizer_config.json beside it, "" when absent); fills vocab.
struct HfConfig {
    std::string chat_template;
};
std::unique_ptr<TokenizerEngine> hf_engine(std::string_view tokenizer_json, std::string_view config_json,
                                           Vocab& vocab, HfConfig& config);

}  // namespace lmx
