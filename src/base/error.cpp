#include "base/error.hpp"

namespace lmx {

void assert_failed(const char* expr, const char* file, int line) {
    fail("internal error: assertion '", expr, "' failed at ", file, ":", line,
         " (this is a bug in lmx; please report it)");
}

std::string shown(std::string_view s, size_t max_chars) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < max_chars; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max_chars) out += "...";
    return out + "'";
}

}  // namespace lmx
