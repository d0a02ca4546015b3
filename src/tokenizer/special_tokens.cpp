#include "tokenizer/special_tokens.hpp"

namespace lmx {

std::vector<Fragment> split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special) {
    std::vector<Fragment> frags;
    if (text.empty()) return frags;
    frags.push_back({0, text.size(), -1});
    std::vector<Fragment> next;
    for (int32_t id : vocab.special) {
        if (!parse_special && vocab.has_attr(id, kAttrControl | kAttrUnknown)) continue;
        const std::string_view needle = vocab.text[static_cast<size_t>(id)];
        next.clear();
        for (const Fragment& f : frags) {
            if (f.token >= 0) {
                next.push_back(f);
                continue;
            }
            const std::string_view piece = text.substr(f.offset, f.length);
            size_t at = 0;
            for (size_t hit; (hit = piece.find(needle, at)) != std::string_view::npos; at = hit + needle.size()) {
                if (hit > at) next.push_back({f.offset + at, hit - at, -1});
                next.push_back({0, 0, id});
            }
            if (at < piece.size()) next.push_back({f.offset + at, piece.size() - at, -1});
        }
        frags.swap(next);
    }
    return frags;
}

}  // namespace lmx
