#pragma once
// Text <-> token ids for a model. From GGUF metadata the ids match llama.cpp token for
// token (tokenizer.ggml.model "gpt2" byte-level BPE with the pre-tokenizers listed in
// pretokenize.hpp, "llama" SentencePiece BPE, "bert" WordPiece); from an HF
// tokenizer.json they match HF `tokenizers` (the components listed in hf_*.hpp).
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
class TokenizerEngine;

class Tokenizer {
public:
    // Throws lmx::Error naming an unsupported tokenizer.ggml.model / tokenizer.ggml.pre.
    static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& f);
    // An HF tokenizer.json; the tokenizer_config.json beside it, when present, gives
    // bos/eos and the chat template. Throws lmx::Error naming an unsupported component.
    static std::unique_ptr<Tokenizer> from_hf_json(const std::string& tokenizer_json_path);
    // The same from the files' contents (config_json may be empty); name is for errors.
    static std::unique_ptr<Tokenizer> from_hf_json_text(std::string_view tokenizer_json, std::string_view config_json,
                                                        const std::string& name);
    ~Tokenizer();

    // add_special: add BOS / EOS (GGUF: as the metadata says, llama.cpp's defaults
    // otherwise; tokenizer.json: what its post-processor adds).
    // parse_special: text equal to a control (special) token's string becomes that token
    // instead of being tokenized as text (user-defined / non-special added tokens are
    // always matched, as in llama.cpp and HF).
    // Invalid UTF-8: GGUF byte-level BPE tokenizes it byte by byte (llama.cpp would
    // substitute U+FFFD); the other tokenizers see U+FFFD in its place.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
    // The text of the ids, as raw bytes (a character split across tokens stays split);
    // control tokens as their text unless skip_special.
    // Throws lmx::Error for an id outside the vocabulary.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
    std::string token_bytes(int32_t id) const;      // the bytes the token stands for in running text ("" for control tokens)
    std::string_view token_text(int32_t id) const;  // the vocabulary string as stored
    int32_t n_vocab() const;
    int32_t bos_id() const;  // -1 when none
    int32_t eos_id() const;  // -1 when none
    bool is_end_of_generation(int32_t id) const;  // eos, eot, <|im_end|>, <|endoftext|>... as llama.cpp decides
    bool adds_bos() const;
    // The Jinja chat template the model ships ("" when none).
    const std::string& chat_template() const { return chat_template_; }

private:
    Tokenizer();
    void check_id(int32_t id) const;

    std::unique_ptr<Vocab> vocab_;
    std::unique_ptr<TokenizerEngine> engine_;
    std::string chat_template_;
};

// Streaming detokenization: returns only complete UTF-8 characters and holds back a
// character whose bytes are split across tokens; text that depends on what follows
// (SentencePiece's leading space, WordPiece joins) comes out as decode() renders it.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tok);
    std::string push(int32_t id);  // text that is now safe to print (invalid bytes as U+FFFD)
    std::string flush();           // whatever is held back, an incomplete character as U+FFFD

private:
    const Tokenizer& tok_;
    std::vector<int32_t> window_;  // the tokens since the last fully printed one, and that one
    size_t printed_ = 0;           // bytes of decode(window_) already printed
};

}  // namespace lmx
