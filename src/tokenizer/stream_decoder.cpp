#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}

StreamDecoder::StreamDecoder(const Tokenizer& tok) : tok_(tok) {}

std::string StreamDecoder::push(int32_t id) {
    pending_ += tok_.token_bytes(id);
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
        const int n = unicode::utf8_sequence_length(pending_, i);
        if (n == 0) break;  // a character still missing bytes: wait for the next token
        if (n < 0) {
            out += kReplacement;
            ++i;
        } else {
            out.append(pending_, i, static_cast<size_t>(n));
            i += static_cast<size_t>(n);
        }
    }
    pending_.erase(0, i);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = pending_.empty() ? std::string() : std::string(kReplacement);
    pending_.clear();
    return out;
}

}  // namespace lmx
