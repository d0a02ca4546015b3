#include "tokenizer/bpe.hpp"

#include <queue>

#include "tokenizer/unicode.hpp"

namespace lmx {

BpeMerges::BpeMerges(const Vocab& vocab, const std::vector<std::string>& merges, bool ignore_merges)
    : ignore_merges_(ignore_merges) {
    merges_.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        // "left right"; the search starts at 1 so that a lone space can be the left operand.
        const std::string& m = merges[rank];
        const size_t sp = m.find(' ', 1);
        const std::string left = sp == std::string::npos ? std::string() : m.substr(0, sp);
        const std::string right = sp == std::string::npos ? std::string() : m.substr(sp + 1);
        const int32_t a = intern(vocab, left), b = intern(vocab, right), r = intern(vocab, left + right);
        merges_.emplace(key(a, b), Merge{static_cast<int32_t>(rank), r});  // a repeated pair keeps its first rank
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

    constexpr int32_t kAbsorbed = -2;  // merged into its left neighbour
    struct Symbol {
        int32_t id;           // symbol id; -1 for a byte whose symbol is unknown
        uint32_t begin, end;  // bytes of word
        int32_t prev, next;   // neighbours still in the chain, -1 at the ends
    };
    std::vector<Symbol> syms(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
        syms[i] = {byte_symbol_[static_cast<uint8_t>(word[i])], static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1),
                   static_cast<int32_t>(i) - 1, i + 1 < word.size() ? static_cast<int32_t>(i + 1) : -1};
    }

    struct Candidate {
        int32_t rank, left, left_id, right_id, result;
        bool operator<(const Candidate& o) const {  // priority_queue pops the largest: lowest rank, then leftmost
            return rank != o.rank ? rank > o.rank : left > o.left;
        }
    };
    std::priority_queue<Candidate> queue;
    const auto consider = [&](int32_t left) {
        if (left < 0) return;
        const int32_t right = syms[static_cast<size_t>(left)].next;
        if (right < 0) return;
        const int32_t a = syms[static_cast<size_t>(left)].id, b = syms[static_cast<size_t>(right)].id;
        if (a < 0 || b < 0) return;
        const auto it = merges_.find(key(a, b));
        if (it != merges_.end()) queue.push({it->second.rank, left, a, b, it->second.result});
    };
    for (size_t i = 0; i + 1 < word.size(); ++i) consider(static_cast<int32_t>(i));

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& left = syms[static_cast<size_t>(c.left)];
        if (left.id != c.left_id || left.next < 0) continue;  // stale: the left symbol changed
        Symbol& right = syms[static_cast<size_t>(left.next)];
        if (right.id != c.right_id) continue;                 // stale: the right symbol changed
        left.id = c.result;
        left.end = right.end;
        left.next = right.next;
        if (right.next >= 0) syms[static_cast<size_t>(right.next)].prev = c.left;
        right.id = kAbsorbed;
        consider(left.prev);
        consider(c.left);
    }

    for (int32_t i = word.empty() ? -1 : 0; i >= 0; i = syms[static_cast<size_t>(i)].next) {
        const Symbol& s = syms[static_cast<size_t>(i)];
        append_symbol(vocab, s.id, word.substr(s.begin, s.end - s.begin), out);
    }
}

}  // namespace lmx
