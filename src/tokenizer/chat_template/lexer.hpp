#pragma once
// Splits a Jinja template into tokens: literal text, and inside {{ }} / {% %} the
// names, literals and operators of the expression language. Whitespace control is
// applied here, as jinja2 does with HF's settings: trim_blocks (drop the newline after
// a block or comment tag), lstrip_blocks (drop spaces/tabs before a block or comment
// tag that starts a line), "-" / "+" modifiers on tags; newlines normalized to "\n"
// and one trailing newline removed. Comments are dropped; {% raw %} becomes text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmx::jinja {

enum class Tok : uint8_t {
    Text,        // literal template text (value)
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,        // identifier or keyword (value)
    String,      // string literal, escapes resolved (value)
    Int,         // value: digits
    Float,       // value: digits
    Op,          // operator or punctuation (value)
    End,
};

struct Token {
    Tok kind;
    std::string value;
    int line = 1, col = 1;  // where the token starts in the source
};

// Throws lmx::Error "line L, column C: ..." on unterminated tags, strings or comments.
std::vector<Token> lex(std::string_view source);

}  // namespace lmx::jinja
