#pragma once
// Text <-> token ids for a model, built from its GGUF tokenizer metadata and matching
// llama.cpp token for token. Supported now: byte-level BPE (tokenizer.ggml.model
// "gpt2") with the pre-tokenizers listed in pretokenize.hpp.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pretokenize.hpp"

namespace lmx {

namespace gguf {
class File;
}
struct Vocab;
class BpeMerges;

class Tokenizer {
public:
    // Throws lmx::Error naming an unsupported tokenizer.ggml.model / tokenizer.ggml.pre.
    static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& f);
    ~Tokenizer();

    // add_special: prepend BOS / append EOS as the model's metadata says
    // (tokenizer.ggml.add_bos_token / add_eos_token, llama.cpp's defaults otherwise).
    // parse_special: text equal to a control token's string becomes that token instead of
    // being tokenized as text (user-defined tokens are always matched, as in llama.cpp).
    // Invalid UTF-8 is tokenized byte by byte; llama.cpp would substitute U+FFFD instead.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
    // Concatenated token bytes; control tokens as their text unless skip_special.
    // Throws lmx::Error for an id outside the vocabulary.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
    std::string token_bytes(int32_t id) const;      // the raw bytes the token stands for ("" for control tokens)
    std::string_view token_text(int32_t id) const;  // the vocabulary string as stored
    int32_t n_vocab() const;
    int32_t bos_id() const;  // -1 when none
    int32_t eos_id() const;  // -1 when none
    bool is_end_of_generation(int32_t id) const;  // eos, eot, <|im_end|>, <|endoftext|>... as llama.cpp decides
    bool adds_bos() const;

private:
    Tokenizer();
    void check_id(int32_t id) const;

    std::unique_ptr<Vocab> vocab_;
    PreTokenizer pre_ = PreTokenizer::Default;
    std::unique_ptr<BpeMerges> bpe_;
    std::vector<std::string> bytes_;  // token_bytes of every token
};

// Streaming detokenization: returns only complete UTF-8 characters and holds back a
// character whose bytes are split across tokens.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tok);
    std::string push(int32_t id);  // text that is now safe to print (invalid bytes as U+FFFD)
    std::string flush();           // whatever is held back, an incomplete character as U+FFFD

private:
    const Tokenizer& tok_;
    std::string pending_;
};

}  // namespace lmx
