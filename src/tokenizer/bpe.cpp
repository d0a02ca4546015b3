#include "tokenizer/bpe.hpp"

#include "tokenizer/unicode.hpp"

namespace lmx {

BpeMerges::BpeMerges(const Vocab& vocab, const std::vector<std::string>& merges, bool ignore_merges)
    : ignore_merges_(ignore_merges) {
    ranks_.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        // "left right"; the search starts at 1 so that a lone space can be the left operand.
        const std::string& m = merges[rank];
        const size_t sp = m.find(' ', 1);
        const std::string left = sp == std::string::npos ? std::string() : m.substr(0, sp);
        const std::string right = sp == std::string::npos ? std::string() : m.substr(sp + 1);
        const int32_t a = intern(vocab, left), b = intern(vocab, right), r = intern(vocab, left + right);
        ranks_.add(a, b, static_cast<int32_t>(rank), r, true);
    }
    for (int byte = 0; byte < 256; ++byte) {
        const std::string& s = unicode::byte_to_symbol(static_cast<uint8_t>(byte));
        int32_t id = vocab.find(s);
        if (id < 0) {
            const auto it = extra_ids_.find(s);
            id = it == extra_ids_.end() ? -1 : it->second;
        }
        byte_symbol_[static_cast<size_t>(byte)] = id;
    }
}

int32_t BpeMerges::intern(const Vocab& vocab, const std::string& s) {
    const int32_t id = vocab.find(s);
    if (id >= 0) return id;
    return extra_ids_.emplace(s, vocab.size() + static_cast<int32_t>(extra_ids_.size())).first->second;
}

// A symbol that is no token: llama.cpp looks up each byte of its byte-level spelling as
// a one-character token and drops the bytes that are none.
void BpeMerges::append_symbol(const Vocab& vocab, int32_t sym, std::string_view bytes,
                              std::vector<int32_t>& out) const {
    if (sym >= 0 && sym < vocab.size()) {
        out.push_back(sym);
        return;
    }
    for (char byte : bytes)
        for (char c : unicode::byte_to_symbol(static_cast<uint8_t>(byte)))
            if (const int32_t id = vocab.find(std::string(1, c)); id >= 0) out.push_back(id);
}

void BpeMerges::encode_word(const Vocab& vocab, std::string_view word, std::vector<int32_t>& out) const {
    if (ignore_merges_) {
        std::string spelled;
        for (char byte : word) spelled += unicode::byte_to_symbol(static_cast<uint8_t>(byte));
        if (const int32_t id = vocab.find(spelled); id >= 0) {
            out.push_back(id);
            return;
        }
    }
    std::vector<BpeSymbol> syms(word.size());
    for (size_t i = 0; i < word.size(); ++i)
        syms[i] = {byte_symbol_[static_cast<uint8_t>(word[i])], static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)};
    ranks_.apply(syms);
    for (const BpeSymbol& s : syms) append_symbol(vocab, s.id, word.substr(s.begin, s.end - s.begin), out);
}

}  // namespace lmx
