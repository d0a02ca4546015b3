#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}

StreamDecoder::StreamDecoder(const Tokenizer& tok) : tok_(tok) {}

// The window is decoded as a whole, so that what a token renders as may depend on the
// token before it (a leading space is dropped only at the very start); the last fully
// printed token stays in the window as that context.
std::string StreamDecoder::push(int32_t id) {
    window_.push_back(id);
    const std::string text = tok_.decode(window_, true);
    std::string out;
    size_t i = std::min(printed_, text.size());
    while (i < text.size()) {
        const int n = unicode::utf8_sequence_length(text, i);
        if (n == 0) break;  // a character still missing bytes: wait for the next token
        if (n < 0) {
            out += kReplacement;
            ++i;
        } else {
            out.append(text, i, static_cast<size_t>(n));
            i += static_cast<size_t>(n);
        }
    }
    if (i == text.size()) {
        window_.assign(1, id);
        printed_ = tok_.decode(window_, true).size();
    } else {
        printed_ = i;
    }
    return out;
}

std::string StreamDecoder::flush() {
    const std::string text = window_.empty() ? std::string() : tok_.decode(window_, true);
    std::string out = printed_ < text.size() ? std::string(kReplacement) : std::string();
    window_.clear();
    printed_ = 0;
    return out;
}

}  // namespace lmx
