#include "tokenizer/chat_template/lexer.hpp"

#include <algorithm>
#include <cstring>

#include "base/error.hpp"

namespace lmx::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// "\r\n" and "\r" become "\n"; one trailing newline goes (keep_trailing_newline=False).
std::string normalize_newlines(std::string_view in) {
    std::string s;
    s.reserve(in.size());
    for (size_t k = 0; k < in.size(); k++) {
        if (in[k] == '\r') {
            s += '\n';
            if (k + 1 < in.size() && in[k + 1] == '\n') k++;
        } else {
            s += in[k];
        }
    }
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
public:
    explicit Lexer(std::string_view source) : src_(normalize_newlines(source)) {
        line_starts_.push_back(0);
        for (size_t k = 0; k < src_.size(); k++)
            if (src_[k] == '\n') line_starts_.push_back(k + 1);
    }

    std::vector<Token> run() {
        bool line_starting = true;
        while (pos_ < src_.size()) {
            const size_t start = next_tag(pos_);
            if (start == std::string::npos) {
                emit(Tok::Text, src_.substr(pos_), pos_);
                break;
            }
            std::string text = src_.substr(pos_, start - pos_);
            const char kind = src_[start + 1];
            const char mod = start + 2 < src_.size() ? src_[start + 2] : '\0';
            if (mod == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mod != '+' && kind != '{') {
                // lstrip_blocks: only spaces/tabs between the line start and the tag.
                const size_t nl = text.rfind('\n');
                const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
                if ((l_pos > 0 || line_starting) && text.find_first_not_of(" \t", l_pos) == std::string::npos)
                    text.resize(l_pos);
            }
            if (!text.empty()) emit(Tok::Text, text, pos_);
            pos_ = start + 2 + (mod == '-' || mod == '+' ? 1 : 0);
            if (kind == '#') comment(start);
            else if (kind == '%' && raw_block(start)) {}
            else tag(kind, start);
            line_starting = src_[pos_ - 1] == '\n';
        }
        emit(Tok::End, "", src_.size());
        return std::move(out_);
    }

private:
    size_t next_tag(size_t from) const {
        for (size_t k = src_.find('{', from); k != std::string::npos; k = src_.find('{', k + 1))
            if (k + 1 < src_.size() && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
        return std::string::npos;
    }

    void where(size_t off, int& line, int& col) const {
        const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off) - 1;
        line = static_cast<int>(it - line_starts_.begin()) + 1;
        col = static_cast<int>(off - *it) + 1;
    }

    template <class... Parts>
    [[noreturn]] void error(size_t off, const Parts&... parts) const {
        int line, col;
        where(off, line, col);
        fail("chat template: line ", line, ", column ", col, ": ", parts...);
    }

    void emit(Tok kind, std::string value, size_t off) {
        Token t{kind, std::move(value)};
        where(off, t.line, t.col);
        out_.push_back(std::move(t));
    }

    // After a tag: "-" strips all following whitespace, trim_blocks one newline.
    void after_tag_end(char mod, bool block) {
        if (mod == '-') {
            while (pos_ < src_.size() && is_space(src_[pos_])) pos_++;
        } else if (mod != '+' && block && pos_ < src_.size() && src_[pos_] == '\n') {
            pos_++;
        }
    }

    void comment(size_t start) {
        const size_t end = src_.find("#}", pos_);
        if (end == std::string::npos) error(start, "comment is not closed: add '#}'");
        const char mod = end > pos_ ? src_[end - 1] : '\0';
        pos_ = end + 2;
        after_tag_end(mod, true);
    }

    // Matches "\s*NAME\s*[-+]?%}" at p; returns the position after it, or npos.
    size_t match_keyword_tag(size_t p, const char* name, char& end_mod) const {
        while (p < src_.size() && is_space(src_[p])) p++;
        const size_t n = std::strlen(name);
        if (src_.compare(p, n, name) != 0 || (p + n < src_.size() && is_name_char(src_[p + n]))) return std::string::npos;
        p += n;
        while (p < src_.size() && is_space(src_[p])) p++;
        end_mod = '\0';
        if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) end_mod = src_[p++];
        if (src_.compare(p, 2, "%}") != 0) return std::string::npos;
        return p + 2;
    }

    bool raw_block(size_t start) {
        char mod;
        size_t p = match_keyword_tag(pos_, "raw", mod);
        if (p == std::string::npos) return false;
        pos_ = p;
        after_tag_end(mod, true);
        for (size_t k = src_.find("{%", pos_); k != std::string::npos; k = src_.find("{%", k + 1)) {
            const char open_mod = k + 2 < src_.size() ? src_[k + 2] : '\0';
            char end_mod;
            const size_t q = match_keyword_tag(k + 2 + (open_mod == '-' || open_mod == '+' ? 1 : 0), "endraw", end_mod);
            if (q == std::string::npos) continue;
            std::string body = src_.substr(pos_, k - pos_);
            if (open_mod == '-')
                while (!body.empty() && is_space(body.back())) body.pop_back();
            if (!body.empty()) emit(Tok::Text, body, pos_);
            pos_ = q;
            after_tag_end(end_mod, true);
            return true;
        }
        error(start, "raw block is not closed: add '{% endraw %}'");
    }

    void tag(char kind, size_t start) {
        const bool block = kind == '%';
        emit(block ? Tok::BlockBegin : Tok::VarBegin, "", start);
        const char close = block ? '%' : '}';
        int depth = 0;  // open brackets: "}}" inside {'a': {'b': 1}} does not end the tag
        for (;;) {
            while (pos_ < src_.size() && is_space(src_[pos_])) pos_++;
            if (pos_ >= src_.size()) error(start, block ? "block tag is not closed: add '%}'" : "expression is not closed: add '}}'");
            const char c = src_[pos_];
            if (depth == 0) {
                const char mod = (c == '-' || c == '+') ? c : '\0';
                const size_t p = pos_ + (mod ? 1 : 0);
                if (p + 1 < src_.size() && src_[p] == close && src_[p + 1] == '}') {
                    emit(block ? Tok::BlockEnd : Tok::VarEnd, "", pos_);
                    pos_ = p + 2;
                    after_tag_end(mod, block);
                    return;
                }
            }
            const size_t at = pos_;
            if (is_name_start(c)) {
                while (pos_ < src_.size() && is_name_char(src_[pos_])) pos_++;
                emit(Tok::Name, src_.substr(at, pos_ - at), at);
            } else if (is_digit(c)) {
                number();
            } else if (c == '\'' || c == '"') {
                string_literal();
            } else {
                static const char* const two[] = {"**", "//", "==", "!=", "<=", ">="};
                std::string op(1, c);
                for (const char* t : two)
                    if (src_.compare(pos_, 2, t) == 0) op = t;
                if (op.size() == 1 && !std::strchr("+-*/%~<>=()[]{}.,:|", c))
                    error(at, "unexpected character '", op, "' in ", block ? "block tag" : "expression");
                if (c == '(' || c == '[' || c == '{') depth++;
                if ((c == ')' || c == ']' || c == '}') && depth > 0) depth--;
                pos_ += op.size();
                emit(Tok::Op, op, at);
            }
        }
    }

    void digits() {
        while (pos_ < src_.size() && (is_digit(src_[pos_]) || (src_[pos_] == '_' && pos_ + 1 < src_.size() && is_digit(src_[pos_ + 1]))))
            pos_++;
    }

    void number() {
        const size_t at = pos_;
        digits();
        bool is_float = false;
        if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
            pos_++;
            digits();
            is_float = true;
        }
        if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
            size_t p = pos_ + 1;
            if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) p++;
            if (p < src_.size() && is_digit(src_[p])) {
                pos_ = p;
                digits();
                is_float = true;
            }
        }
        std::string text;
        for (size_t k = at; k < pos_; k++)
            if (src_[k] != '_') text += src_[k];
        emit(is_float ? Tok::Float : Tok::Int, text, at);
    }

    // Python string escapes, as jinja2 decodes them ("unicode-escape").
    void string_literal() {
        const size_t at = pos_;
        const char quote = src_[pos_++];
        std::string out;
        for (;;) {
            if (pos_ >= src_.size()) error(at, "string literal is not closed: add ", quote);
            const char c = src_[pos_++];
            if (c == quote) break;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= src_.size()) error(at, "string literal is not closed: add ", quote);
            const char e = src_[pos_++];
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'v': out += '\v'; break;
                case '\\': out += '\\'; break;
                case '\'': out += '\''; break;
                case '"': out += '"'; break;
                case '\n': break;  // line continuation
                case 'x':
                case 'u':
                case 'U': {
                    const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    uint32_t cp = 0;
                    for (int k = 0; k < n; k++) {
                        const int h = pos_ < src_.size() ? hex_value(src_[pos_]) : -1;
                        if (h < 0) error(pos_, "truncated \\", e, " escape in string literal");
                        cp = cp * 16 + static_cast<uint32_t>(h);
                        pos_++;
                    }
                    if (cp > 0x10ffff) error(at, "escape \\U", std::hex, cp, " is beyond Unicode");
                    append_utf8(out, cp);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        uint32_t cp = static_cast<uint32_t>(e - '0');
                        for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; k++)
                            cp = cp * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
                        append_utf8(out, cp);
                    } else {
                        out += '\\';  // unknown escapes stay as written
                        out += e;
                    }
            }
        }
        emit(Tok::String, out, at);
    }

    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> out_;
    size_t pos_ = 0;
};

}  // namespace

std::vector<Token> lex(std::string_view source) { return Lexer(source).run(); }

}  // namespace lmx::jinja
