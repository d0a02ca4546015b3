#pragma once
// The syntax tree of a parsed template: expressions (Expr) and statements (Node).
// Every node keeps its source line and column for error messages.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template/value.hpp"

namespace lmx::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum Kind {
        Literal,   // value
        Name,      // name
        ListLit,   // args: items
        TupleLit,  // args: items
        DictLit,   // args: key, value, key, value...
        GetAttr,   // args[0].name
        GetItem,   // args[0][args[1]]
        Slice,     // args[0][args[1]:args[2]:args[3]], absent parts null
        Call,      // args[0](args[1..], kwargs)
        Filter,    // args[0] | name(args[1..], kwargs); args[0] null inside {% filter %}
        Test,      // args[0] is [not] name(args[1..], kwargs)
        Unary,     // name: "not", "-", "+"; args[0]
        Binary,    // name: operator; args[0], args[1]
        Cond,      // args[1] if args[0] else args[2] (args[2] may be null)
    };
    Kind kind;
    int line = 0, col = 0;
    std::string name;
    Value value;
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    bool negated = false;  // Test: "is not"
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct Param {
    std::string name;
    ExprPtr default_value;  // null: required
};

struct Node {
    enum Kind {
        Text,         // text
        Output,       // {{ expr }}
        If,           // branches (cond, body)...; else_body
        For,          // for targets in expr [if cond]: body; else_body
        Set,          // set targets = expr, or set targets[0].attr = expr (attr non-empty)
        SetBlock,     // set targets[0] %}body{% endset %}, expr: optional filter chain
        Macro,        // macro name(params): body
        CallBlock,    // call(params) expr: body (the body is `caller`)
        FilterBlock,  // filter expr: body
        Break,
        Continue,
    };
    Kind kind;
    int line = 0, col = 0;
    std::string text;  // Text: the text; Macro: its name
    std::string attr;  // Set: namespace attribute target
    ExprPtr expr, cond;
    std::vector<std::string> targets;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body, else_body;
    std::vector<Param> params;
};

}  // namespace lmx::jinja
