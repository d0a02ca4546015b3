#include "tokenizer/hf_text.hpp"

namespace lmx::hf {

namespace {
template <class S, class V>
S replace_impl(V text, V from, V to) {
    S out;
    if (from.empty()) return S(text);
    size_t at = 0;
    for (size_t hit; (hit = text.find(from, at)) != V::npos; at = hit + from.size()) {
        out.append(text, at, hit - at);
        out.append(to);
    }
    out.append(text, at, V::npos);
    return out;
}
}  // namespace

std::u32string replace_all(std::u32string_view text, std::u32string_view from, std::u32string_view to) {
    return replace_impl<std::u32string>(text, from, to);
}

std::string replace_all_bytes(std::string_view text, std::string_view from, std::string_view to) {
    return replace_impl<std::string>(text, from, to);
}

}  // namespace lmx::hf
