#pragma once
// Byte-level BPE (tokenizer.ggml.model "gpt2"): each pre-tokenized word is written as
// GPT-2 byte symbols, then adjacent symbols are merged by tokenizer.ggml.merges rank
// (bpe_merge.hpp), exactly as llama.cpp's llm_tokenizer_bpe_session does.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_merge.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

class BpeMerges {
public:
    // ignore_merges: a word that is a token as a whole becomes that token (llama3).
    BpeMerges(const Vocab& vocab, const std::vector<std::string>& merges, bool ignore_merges);

    // Appends the tokens of one word (its raw bytes) to out.
    void encode_word(const Vocab& vocab, std::string_view word, std::vector<int32_t>& out) const;

private:
    // Merge operands and results are interned as symbol ids: token ids where the string
    // is a token, ids past the vocabulary for the few that are not.
    int32_t intern(const Vocab& vocab, const std::string& s);
    void append_symbol(const Vocab& vocab, int32_t sym, std::string_view bytes, std::vector<int32_t>& out) const;

    BpeRanks ranks_;
    std::unordered_map<std::string, int32_t> extra_ids_;  // interned strings that are not tokens
    std::array<int32_t, 256> byte_symbol_{};               // -1: the byte's symbol is unknown
    bool ignore_merges_;
};

}  // namespace lmx
