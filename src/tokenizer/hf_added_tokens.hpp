#pragma once
// HF's AddedVocabulary: added tokens are cut out of the text before the model sees it,
// leftmost-longest first (Aho-Corasick semantics), honouring single_word, lstrip and
// rstrip. Tokens with normalized=false (and special ones) are matched on the raw text,
// the others on the normalized text, against their normalized content.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmx::hf {

struct AddedToken {
    std::u32string content;
    int32_t id;
    bool single_word, lstrip, rstrip, normalized, special;
};

struct Segment {
    std::u32string text;  // when token < 0
    int32_t token;
    bool at_start;        // the text begins at offset 0 of the input
};

class AddedTokenMatcher {
public:
    // tokens: the tokens of one pass, with the content to match.
    explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
    // Splits every text segment of `segments`; specials are skipped unless parse_special.
    void split(std::vector<Segment>& segments, bool parse_special) const;

private:
    void split_one(const Segment& seg, bool parse_special, std::vector<Segment>& out) const;
    // The longest token starting at text[at], or -1.
    int32_t longest_at(const std::u32string& text, size_t at, size_t& end) const;

    std::vector<AddedToken> tokens_;
    std::unordered_map<uint64_t, uint32_t> edges_;  // (node, code point) -> node of a trie of the contents
    std::vector<int32_t> node_token_;               // index into tokens_, -1 for inner nodes
};

}  // namespace lmx::hf
