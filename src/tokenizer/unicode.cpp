#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <array>

namespace lmx::unicode {

GeneralCategory general_category(uint32_t cp) {
    // Last range whose first code point is <= cp.
    const CategoryRange* end = kCategoryRanges + kCategoryRangeCount;
    const CategoryRange* it = std::upper_bound(kCategoryRanges, end, cp,
                                               [](uint32_t v, const CategoryRange& r) { return v < r.first; });
    return it == kCategoryRanges ? GeneralCategory::Cn : (it - 1)->category;
}

UnicodeCategory major_category(GeneralCategory gc) {
    using G = GeneralCategory;
    if (gc <= G::Lo) return UnicodeCategory::Letter;
    if (gc <= G::Me) return UnicodeCategory::Mark;
    if (gc <= G::No) return UnicodeCategory::Number;
    if (gc <= G::Po) return UnicodeCategory::Punctuation;
    if (gc <= G::So) return UnicodeCategory::Symbol;
    if (gc <= G::Zp) return UnicodeCategory::Separator;
    return UnicodeCategory::Control;
}

UnicodeCategory category(uint32_t cp) { return major_category(general_category(cp)); }

uint8_t combining_class(uint32_t cp) {
    const CccRange* end = kCcc + kCccCount;
    const CccRange* it = std::upper_bound(kCcc, end, cp, [](uint32_t v, const CccRange& r) { return v < r.first; });
    return it != kCcc && cp <= (it - 1)->last ? (it - 1)->ccc : 0;
}

const Mapping* find_mapping(const Mapping* table, size_t count, uint32_t cp) {
    const Mapping* end = table + count;
    const Mapping* it = std::lower_bound(table, end, cp, [](const Mapping& m, uint32_t v) { return m.cp < v; });
    return it != end && it->cp == cp ? it : nullptr;
}

void append_lowercase(std::u32string& out, uint32_t cp) {
    if (const Mapping* m = find_mapping(kLowercase, kLowercaseCount, cp))
        out.append(kMappingPool + m->offset, kMappingPool + m->offset + m->length);
    else
        out += static_cast<char32_t>(cp);
}

bool is_whitespace(uint32_t cp) {
    return std::binary_search(kWhitespace, kWhitespace + kWhitespaceCount, cp);
}

int utf8_sequence_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const uint8_t c = b(i);
    if (c < 0x80) return 1;
    int n;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;  // overlong
        if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;  // overlong
        if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    } else {
        return -1;
    }
    for (int k = 1; k < n; ++k) {
        if (i + k >= s.size()) return 0;
        const uint8_t x = b(i + k);
        if (k == 1 ? (x < lo || x > hi) : (x & 0xC0) != 0x80) return -1;
    }
    return n;
}

std::vector<Char> decode_chars(std::string_view text) {
    std::vector<Char> chars;
    chars.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const int n = utf8_sequence_length(text, i);
        uint32_t cp = kReplacementChar;
        uint8_t len = 1;
        if (n > 0) {
            len = static_cast<uint8_t>(n);
            const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(text[i + k])); };
            switch (n) {
                case 1: cp = b(0); break;
                case 2: cp = ((b(0) & 0x1F) << 6) | (b(1) & 0x3F); break;
                case 3: cp = ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F); break;
                default: cp = ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
            }
        }
        chars.push_back({static_cast<uint32_t>(i), cp, len, category(cp), is_whitespace(cp)});
        i += len;
    }
    return chars;
}

std::string to_utf8(std::u32string_view cps) {
    std::string out;
    out.reserve(cps.size());
    for (char32_t cp : cps) append_utf8(out, cp);
    return out;
}

std::u32string to_code_points(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    for (const Char& c : decode_chars(text)) out += static_cast<char32_t>(c.cp);
    return out;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

namespace {

bool stands_for_itself(int byte) {
    return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

struct ByteMap {
    std::array<std::string, 256> symbol;
    std::array<int16_t, 0x144> byte;  // indexed by code point; every mapped one is < U+0144

    ByteMap() {
        byte.fill(-1);
        int next = 0x100;
        for (int b = 0; b < 256; ++b) {
            const uint32_t cp = stands_for_itself(b) ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++);
            append_utf8(symbol[b], cp);
            byte[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap map;
    return map;
}

}  // namespace

const std::string& byte_to_symbol(uint8_t b) { return byte_map().symbol[b]; }

int symbol_to_byte(uint32_t cp) { return cp < 0x144 ? byte_map().byte[cp] : -1; }

}  // namespace lmx::unicode
