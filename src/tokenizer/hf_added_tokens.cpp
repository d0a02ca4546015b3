#include "tokenizer/hf_added_tokens.hpp"

#include "tokenizer/hf_text.hpp"

namespace lmx::hf {

namespace {
uint64_t edge(uint32_t node, char32_t c) { return (static_cast<uint64_t>(node) << 21) | static_cast<uint64_t>(c); }
}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)), node_token_(1, -1) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
        if (tokens_[i].content.empty()) continue;
        uint32_t n = 0;
        for (char32_t c : tokens_[i].content) {
            auto it = edges_.find(edge(n, c));
            if (it == edges_.end()) {
                node_token_.push_back(-1);
                it = edges_.emplace(edge(n, c), static_cast<uint32_t>(node_token_.size() - 1)).first;
            }
            n = it->second;
        }
        if (node_token_[n] < 0) node_token_[n] = static_cast<int32_t>(i);  // a duplicate content keeps the first
    }
}

int32_t AddedTokenMatcher::longest_at(const std::u32string& text, size_t at, size_t& end) const {
    int32_t best = -1;
    uint32_t n = 0;
    for (size_t i = at; i < text.size(); ++i) {
        const auto it = edges_.find(edge(n, text[i]));
        if (it == edges_.end()) break;
        n = it->second;
        if (node_token_[n] >= 0) {
            best = node_token_[n];
            end = i + 1;
        }
    }
    return best;
}

void AddedTokenMatcher::split_one(const Segment& seg, bool parse_special, std::vector<Segment>& out) const {
    const std::u32string& t = seg.text;
    size_t done = 0;  // end of the last token cut out
    for (size_t at = 0; at < t.size();) {
        size_t stop = 0;
        const int32_t k = longest_at(t, at, stop);
        if (k < 0) {
            ++at;
            continue;
        }
        const AddedToken& tok = tokens_[static_cast<size_t>(k)];
        size_t start = at;
        at = stop;  // the scan goes on after the match even when the match is dropped
        if (tok.special && !parse_special) continue;
        if (tok.single_word) {
            const bool word_before = start > 0 && is_alphanumeric(t[start - 1]);
            const bool word_after = stop < t.size() && is_alphanumeric(t[stop]);
            if (word_before || word_after) continue;
        }
        if (tok.lstrip) {
            size_t s = start;
            while (s > done && is_whitespace(t[s - 1])) --s;
            start = s;
        }
        if (tok.rstrip)
            while (stop < t.size() && is_whitespace(t[stop])) ++stop;
        if (start > done) out.push_back({t.substr(done, start - done), -1, seg.at_start && done == 0});
        out.push_back({{}, tok.id, false});
        done = stop;
        at = stop;
    }
    if (done < t.size()) out.push_back({t.substr(done), -1, seg.at_start && done == 0});
}

void AddedTokenMatcher::split(std::vector<Segment>& segments, bool parse_special) const {
    if (tokens_.empty()) return;
    std::vector<Segment> out;
    for (const Segment& s : segments) {
        if (s.token >= 0)
            out.push_back(s);
        else
            split_one(s, parse_special, out);
    }
    segments.swap(out);
}

}  // namespace lmx::hf
