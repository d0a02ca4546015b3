#include "runtime/html_text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace lmx {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | cp >> 6);
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | cp >> 12);
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | cp >> 18);
        out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The named references documents use most; others stay as written.
struct Entity {
    std::string_view name;
    uint32_t cp;
};
constexpr Entity kEntities[] = {
    {"amp", '&'},     {"lt", '<'},       {"gt", '>'},      {"quot", '"'},    {"apos", '\''},   {"nbsp", 0xA0},
    {"copy", 0xA9},   {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"laquo", 0xAB},  {"raquo", 0xBB},
    {"eacute", 0xE9}, {"egrave", 0xE8},  {"agrave", 0xE0}, {"ccedil", 0xE7}, {"uuml", 0xFC},   {"ouml", 0xF6},
    {"auml", 0xE4},   {"szlig", 0xDF},   {"deg", 0xB0},    {"middot", 0xB7}, {"bull", 0x2022}, {"euro", 0x20AC},
};

// Decodes the reference starting at html[i] == '&'; returns the bytes it used (0: not one).
size_t decode_reference(std::string_view html, size_t i, std::string& out) {
    const size_t semi = html.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) return 0;
    const std::string_view body = html.substr(i + 1, semi - i - 1);
    if (body.size() >= 2 && body[0] == '#') {
        const bool hex = body[1] == 'x' || body[1] == 'X';
        const std::string_view digits = body.substr(hex ? 2 : 1);
        if (digits.empty()) return 0;
        uint32_t cp = 0;
        for (char c : digits) {
            const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                          : hex && std::isxdigit(static_cast<unsigned char>(c)) ? std::tolower(c) - 'a' + 10
                                                                                : -1;
            if (v < 0) return 0;
            cp = std::min<uint32_t>(cp * (hex ? 16 : 10) + static_cast<uint32_t>(v), 0x110000);
        }
        append_utf8(out, cp);
        return semi - i + 1;
    }
    for (const Entity& e : kEntities)
        if (e.name == body) {
            append_utf8(out, e.cp);
            return semi - i + 1;
        }
    return 0;
}

// Position of needle (lower case) in s at or after from, ignoring ASCII case.
size_t find_nocase(std::string_view s, std::string_view needle, size_t from) {
    for (size_t i = from; i + needle.size() <= s.size(); i++) {
        size_t k = 0;
        while (k < needle.size() && std::tolower(static_cast<unsigned char>(s[i + k])) == needle[k]) k++;
        if (k == needle.size()) return i;
    }
    return std::string_view::npos;
}

bool is_block(const std::string& tag) {
    static constexpr std::string_view kBlocks[] = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                                                   "tr", "table", "section", "article", "header", "footer", "pre",
                                                   "blockquote", "hr", "title", "dt", "dd"};
    return std::find(std::begin(kBlocks), std::end(kBlocks), tag) != std::end(kBlocks);
}

}  // namespace

std::string html_to_text(std::string_view html) {
    std::string out;
    size_t i = 0;
    while (i < html.size()) {
        const char c = html[i];
        if (c == '&') {
            const size_t used = decode_reference(html, i, out);
            if (used) { i += used; continue; }
            out += c;
            i++;
            continue;
        }
        if (c != '<') {
            out += c;
            i++;
            continue;
        }
        if (html.substr(i, 4) == "<!--") {
            const size_t end = html.find("-->", i + 4);
            i = end == std::string_view::npos ? html.size() : end + 3;
            continue;
        }
        const size_t close = html.find('>', i);
        if (close == std::string_view::npos) break;  // a cut-off tag at the end: drop it
        size_t n = i + 1;
        if (n < close && html[n] == '/') n++;
        size_t name_end = n;
        while (name_end < close && std::isalnum(static_cast<unsigned char>(html[name_end]))) name_end++;
        const std::string tag = lower(html.substr(n, name_end - n));
        i = close + 1;
        if ((tag == "script" || tag == "style" || tag == "head") && html[n - 1] != '/') {
            const size_t end = find_nocase(html, "</" + tag, i);  // their content is not text
            i = end == std::string_view::npos ? html.size() : end;
            continue;
        }
        if (is_block(tag) && (out.empty() || out.back() != '\n')) out += '\n';
    }
    return out;
}

}  // namespace lmx
