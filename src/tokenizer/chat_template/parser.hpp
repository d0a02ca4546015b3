#pragma once
// Tokens -> syntax tree, following jinja2's grammar and operator precedence:
// cond-expr < or < and < not < comparisons/in < + - < ~ < * / // % < ** < unary
// minus < postfix (. [] ()) with filters (|) and tests (is) binding to the operand.
#include <vector>

#include "tokenizer/chat_template/ast.hpp"
#include "tokenizer/chat_template/lexer.hpp"

namespace lmx::jinja {

// Throws lmx::Error "line L, column C: ..." naming the unexpected token or missing end tag.
Body parse(const std::vector<Token>& tokens);

}  // namespace lmx::jinja
