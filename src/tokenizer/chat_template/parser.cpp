#include "tokenizer/chat_template/parser.hpp"

#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "base/error.hpp"

namespace lmx::jinja {

namespace {

constexpr int kMaxDepth = 256;  // nesting of expressions and blocks; deeper input is refused, not a stack overflow

const char* describe(Tok k) {
    switch (k) {
        case Tok::Text: return "text";
        case Tok::VarBegin: return "'{{'";
        case Tok::VarEnd: return "'}}'";
        case Tok::BlockBegin: return "'{%'";
        case Tok::BlockEnd: return "'%}'";
        case Tok::Name: return "name";
        case Tok::String: return "string";
        case Tok::Int: return "integer";
        case Tok::Float: return "number";
        case Tok::Op: return "operator";
        case Tok::End: return "end of template";
    }
    return "token";
}

class Parser {
public:
    explicit Parser(const std::vector<Token>& t) : t_(t) {}

    Body run() {
        Body body = parse_body({});
        return body;
    }

private:
    // ---- token helpers
    const Token& cur() const { return t_[i_]; }
    const Token& peek(size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
    void next() {
        if (i_ + 1 < t_.size()) i_++;
    }
    bool is_op(std::string_view op) const { return cur().kind == Tok::Op && cur().value == op; }
    bool is_name(std::string_view n) const { return cur().kind == Tok::Name && cur().value == n; }
    bool skip_op(std::string_view op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(std::string_view n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }

    template <class... Parts>
    [[noreturn]] void error_at(const Token& t, const Parts&... parts) const {
        fail("chat template: line ", t.line, ", column ", t.col, ": ", parts...);
    }
    [[noreturn]] void unexpected(const char* wanted) const {
        const Token& t = cur();
        if (t.value.empty()) error_at(t, "expected ", wanted, ", got ", describe(t.kind));
        error_at(t, "expected ", wanted, ", got '", t.value, "'");
    }
    void expect_op(const char* op) {
        if (!skip_op(op)) unexpected((std::string("'") + op + "'").c_str());
    }
    std::string expect_name() {
        if (cur().kind != Tok::Name) unexpected("a name");
        std::string n = cur().value;
        next();
        return n;
    }
    void expect_block_end() {
        if (cur().kind != Tok::BlockEnd) unexpected("'%}'");
        next();
    }

    struct DepthGuard {
        int& d;
        DepthGuard(int& depth, const Token& t) : d(depth) {
            if (++d > kMaxDepth) fail("chat template: line ", t.line, ", column ", t.col, ": nesting deeper than ", kMaxDepth, " levels");
        }
        ~DepthGuard() { d--; }
    };

    ExprPtr make(Expr::Kind k, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->line = at.line;
        e->col = at.col;
        return e;
    }
    std::unique_ptr<Node> make_node(Node::Kind k, const Token& at) {
        auto n = std::make_unique<Node>();
        n->kind = k;
        n->line = at.line;
        n->col = at.col;
        return n;
    }

    // ---- statements

    // Parses until "{% <one of stop> " (left on the stop keyword) or the end of input.
    Body parse_body(std::initializer_list<std::string_view> stop) {
        DepthGuard g(depth_, cur());
        Body body;
        for (;;) {
            const Token& t = cur();
            if (t.kind == Tok::End) {
                if (stop.size() != 0) error_at(t, "missing '{% ", *(stop.end() - 1), " %}' before the end of the template");
                return body;
            }
            if (t.kind == Tok::Text) {
                auto n = make_node(Node::Text, t);
                n->text = t.value;
                body.push_back(std::move(n));
                next();
            } else if (t.kind == Tok::VarBegin) {
                auto n = make_node(Node::Output, t);
                next();
                n->expr = parse_tuple(true);
                if (cur().kind != Tok::VarEnd) unexpected("'}}'");
                next();
                body.push_back(std::move(n));
            } else if (t.kind == Tok::BlockBegin) {
                const Token& kw = peek();
                if (kw.kind != Tok::Name) {
                    next();
                    unexpected("a tag name");
                }
                for (std::string_view s : stop)
                    if (kw.value == s) {
                        next();
                        return body;
                    }
                next();
                body.push_back(statement());
            } else {
                unexpected("text or a tag");
            }
        }
    }

    // "{% endX %}" after parse_body stopped on it.
    void end_tag(const char* name) {
        if (!skip_name(name)) unexpected(name);
        expect_block_end();
    }

    std::unique_ptr<Node> statement() {
        const Token& kw = cur();
        const std::string k = kw.value;
        next();
        if (k == "if") return parse_if(kw);
        if (k == "for") return parse_for(kw);
        if (k == "set") return parse_set(kw);
        if (k == "macro") return parse_macro(kw);
        if (k == "call") return parse_call_block(kw);
        if (k == "filter") return parse_filter_block(kw);
        if (k == "break" || k == "continue") {
            if (loop_depth_ == 0) error_at(kw, "'", k, "' outside a for loop");
            auto n = make_node(k == "break" ? Node::Break : Node::Continue, kw);
            expect_block_end();
            return n;
        }
        error_at(kw, "unknown tag '", k, "' (supported: if, for, set, macro, call, filter, break, continue, raw)");
    }

    std::unique_ptr<Node> parse_if(const Token& at) {
        auto n = make_node(Node::If, at);
        ExprPtr cond = parse_tuple(false);
        expect_block_end();
        for (;;) {
            Body body = parse_body({"elif", "else", "endif"});
            n->branches.emplace_back(std::move(cond), std::move(body));
            if (skip_name("elif")) {
                cond = parse_tuple(false);
                expect_block_end();
                continue;
            }
            if (skip_name("else")) {
                expect_block_end();
                n->else_body = parse_body({"endif"});
            }
            end_tag("endif");
            return n;
        }
    }

    std::vector<std::string> assign_targets() {
        std::vector<std::string> names;
        const bool paren = skip_op("(");
        do {
            names.push_back(expect_name());
        } while (skip_op(","));
        if (paren) expect_op(")");
        return names;
    }

    std::unique_ptr<Node> parse_for(const Token& at) {
        auto n = make_node(Node::For, at);
        n->targets = assign_targets();
        if (!skip_name("in")) unexpected("'in'");
        n->expr = parse_tuple(false, /*with_condexpr=*/false);
        if (skip_name("if")) n->cond = parse_expression();
        if (is_name("recursive")) error_at(cur(), "recursive for loops are not supported");
        expect_block_end();
        loop_depth_++;
        n->body = parse_body({"else", "endfor"});
        loop_depth_--;
        if (skip_name("else")) {
            expect_block_end();
            n->else_body = parse_body({"endfor"});
        }
        end_tag("endfor");
        return n;
    }

    std::unique_ptr<Node> parse_set(const Token& at) {
        auto n = make_node(Node::Set, at);
        if (cur().kind == Tok::Name && peek().kind == Tok::Op && peek().value == ".") {
            n->targets.push_back(expect_name());
            next();
            n->attr = expect_name();
        } else {
            n->targets = assign_targets();
        }
        if (skip_op("=")) {
            n->expr = parse_tuple(false);
            expect_block_end();
            return n;
        }
        if (!n->attr.empty() || n->targets.size() != 1) unexpected("'='");
        n->kind = Node::SetBlock;
        if (is_op("|")) n->expr = parse_filter_chain(nullptr);
        expect_block_end();
        n->body = parse_body({"endset"});
        end_tag("endset");
        return n;
    }

    std::vector<Param> params() {
        std::vector<Param> ps;
        expect_op("(");
        while (!skip_op(")")) {
            if (!ps.empty()) expect_op(",");
            if (skip_op(")")) break;
            Param p;
            p.name = expect_name();
            if (skip_op("=")) p.default_value = parse_expression();
            ps.push_back(std::move(p));
        }
        return ps;
    }

    std::unique_ptr<Node> parse_macro(const Token& at) {
        auto n = make_node(Node::Macro, at);
        n->text = expect_name();
        n->params = params();
        expect_block_end();
        const int saved = loop_depth_;
        loop_depth_ = 0;
        n->body = parse_body({"endmacro"});
        loop_depth_ = saved;
        end_tag("endmacro");
        return n;
    }

    std::unique_ptr<Node> parse_call_block(const Token& at) {
        auto n = make_node(Node::CallBlock, at);
        if (is_op("(")) n->params = params();
        n->expr = parse_expression();
        if (n->expr->kind != Expr::Call) error_at(at, "{% call %} needs a macro call, like {% call m() %}");
        expect_block_end();
        n->body = parse_body({"endcall"});
        end_tag("endcall");
        return n;
    }

    std::unique_ptr<Node> parse_filter_block(const Token& at) {
        auto n = make_node(Node::FilterBlock, at);
        n->expr = parse_filter_chain(nullptr, /*leading_bar=*/false);
        expect_block_end();
        n->body = parse_body({"endfilter"});
        end_tag("endfilter");
        return n;
    }

    // ---- expressions

    // "a, b" is a tuple where jinja2 allows it ({{ }}, set, for, if).
    ExprPtr parse_tuple(bool allow_empty, bool with_condexpr = true) {
        const Token& at = cur();
        auto one = [&] { return with_condexpr ? parse_expression() : parse_or(); };
        if (allow_empty && (cur().kind == Tok::VarEnd || cur().kind == Tok::BlockEnd)) return make(Expr::TupleLit, at);
        ExprPtr first = one();
        if (!is_op(",")) return first;
        auto t = make(Expr::TupleLit, at);
        t->args.push_back(std::move(first));
        while (skip_op(",")) {
            if (cur().kind == Tok::VarEnd || cur().kind == Tok::BlockEnd || is_name("in")) break;
            t->args.push_back(one());
        }
        return t;
    }

    ExprPtr parse_expression() {
        DepthGuard g(depth_, cur());
        const Token& at = cur();
        ExprPtr e = parse_or();
        while (is_name("if")) {
            next();
            auto c = make(Expr::Cond, at);  // args: cond, then, else
            c->args.push_back(parse_or());
            c->args.push_back(std::move(e));
            if (skip_name("else")) c->args.push_back(parse_expression());
            else c->args.push_back(nullptr);
            e = std::move(c);
        }
        return e;
    }

    ExprPtr binary(const Token& at, std::string op, ExprPtr a, ExprPtr b) {
        auto e = make(Expr::Binary, at);
        e->name = std::move(op);
        e->args.push_back(std::move(a));
        e->args.push_back(std::move(b));
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            const Token& at = cur();
            next();
            e = binary(at, "or", std::move(e), parse_and());
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            const Token& at = cur();
            next();
            e = binary(at, "and", std::move(e), parse_not());
        }
        return e;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard g(depth_, cur());
            auto e = make(Expr::Unary, cur());
            next();
            e->name = "not";
            e->args.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        ExprPtr e = parse_math1();
        for (;;) {
            const Token& at = cur();
            std::string op;
            if (cur().kind == Tok::Op && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                          cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
                op = cur().value;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().kind == Tok::Name && peek().value == "in") {
                op = "not in";
                next();
                next();
            } else {
                return e;
            }
            e = binary(at, op, std::move(e), parse_math1());
        }
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token& at = cur();
            std::string op = at.value;
            next();
            e = binary(at, op, std::move(e), parse_concat());
        }
        return e;
    }

    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            const Token& at = cur();
            next();
            e = binary(at, "~", std::move(e), parse_math2());
        }
        return e;
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& at = cur();
            std::string op = at.value;
            next();
            e = binary(at, op, std::move(e), parse_pow());
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            const Token& at = cur();
            next();
            e = binary(at, "**", std::move(e), parse_unary(true));
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        DepthGuard g(depth_, cur());
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            e = make(Expr::Unary, cur());
            e->name = cur().value;
            next();
            e->args.push_back(parse_unary(false));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token& t = cur();
        switch (t.kind) {
            case Tok::Name: {
                next();
                if (t.value == "true" || t.value == "True") return literal(t, Value::boolean(true));
                if (t.value == "false" || t.value == "False") return literal(t, Value::boolean(false));
                if (t.value == "none" || t.value == "None") return literal(t, Value::none());
                auto e = make(Expr::Name, t);
                e->name = t.value;
                return e;
            }
            case Tok::String: {
                std::string s;
                while (cur().kind == Tok::String) {
                    s += cur().value;
                    next();
                }
                return literal(t, Value::string(std::move(s)));
            }
            case Tok::Int: {
                next();
                errno = 0;
                const long long v = std::strtoll(t.value.c_str(), nullptr, 10);
                if (errno == ERANGE) error_at(t, "integer ", t.value, " does not fit in 64 bits");
                return literal(t, Value::integer(v));
            }
            case Tok::Float:
                next();
                return literal(t, Value::number(std::strtod(t.value.c_str(), nullptr)));
            case Tok::Op:
                if (t.value == "(") {
                    next();
                    if (skip_op(")")) return make(Expr::TupleLit, t);
                    ExprPtr first = parse_expression();
                    if (skip_op(")")) return first;
                    auto tup = make(Expr::TupleLit, t);
                    tup->args.push_back(std::move(first));
                    while (skip_op(",")) {
                        if (is_op(")")) break;
                        tup->args.push_back(parse_expression());
                    }
                    expect_op(")");
                    return tup;
                }
                if (t.value == "[") {
                    next();
                    auto l = make(Expr::ListLit, t);
                    while (!skip_op("]")) {
                        if (!l->args.empty()) expect_op(",");
                        if (skip_op("]")) break;
                        l->args.push_back(parse_expression());
                    }
                    return l;
                }
                if (t.value == "{") {
                    next();
                    auto d = make(Expr::DictLit, t);
                    while (!skip_op("}")) {
                        if (!d->args.empty()) expect_op(",");
                        if (skip_op("}")) break;
                        d->args.push_back(parse_expression());
                        expect_op(":");
                        d->args.push_back(parse_expression());
                    }
                    return d;
                }
                break;
            default: break;
        }
        unexpected("an expression");
    }

    ExprPtr literal(const Token& t, Value v) {
        auto e = make(Expr::Literal, t);
        e->value = std::move(v);
        return e;
    }

    ExprPtr parse_postfix(ExprPtr e) {
        for (;;) {
            const Token& at = cur();
            if (skip_op(".")) {
                if (cur().kind == Tok::Int) {
                    auto g = make(Expr::GetItem, at);
                    g->args.push_back(std::move(e));
                    g->args.push_back(literal(cur(), Value::integer(std::strtoll(cur().value.c_str(), nullptr, 10))));
                    next();
                    e = std::move(g);
                } else {
                    auto g = make(Expr::GetAttr, at);
                    g->name = expect_name();
                    g->args.push_back(std::move(e));
                    e = std::move(g);
                }
            } else if (skip_op("[")) {
                e = parse_subscript(at, std::move(e));
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(const Token& at, ExprPtr obj) {
        ExprPtr parts[3];
        int n = 0;
        bool slice = false;
        for (;;) {
            if (is_op(":")) {
                slice = true;
                next();
                if (++n > 2) unexpected("']'");
                continue;
            }
            if (skip_op("]")) break;
            if (parts[n]) unexpected("':' or ']'");
            parts[n] = parse_expression();
        }
        if (!slice) {
            if (!parts[0]) error_at(at, "empty subscript []");
            auto g = make(Expr::GetItem, at);
            g->args.push_back(std::move(obj));
            g->args.push_back(std::move(parts[0]));
            return g;
        }
        auto s = make(Expr::Slice, at);
        s->args.push_back(std::move(obj));
        for (auto& p : parts) s->args.push_back(std::move(p));
        return s;
    }

    void call_args(Expr& e) {
        expect_op("(");
        bool first = true;
        while (!skip_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (skip_op(")")) break;
            if (cur().kind == Tok::Name && peek().kind == Tok::Op && peek().value == "=") {
                std::string key = cur().value;
                next();
                next();
                e.kwargs.emplace_back(std::move(key), parse_expression());
            } else {
                if (!e.kwargs.empty()) unexpected("a keyword argument (positional arguments come first)");
                e.args.push_back(parse_expression());
            }
        }
    }

    ExprPtr parse_call(ExprPtr callee) {
        auto c = make(Expr::Call, cur());
        c->line = callee->line;  // errors inside the call point at what is called
        c->col = callee->col;
        c->args.push_back(std::move(callee));
        call_args(*c);
        return c;
    }

    std::string dotted_name() {
        std::string n = expect_name();
        while (is_op(".") && peek().kind == Tok::Name) {
            next();
            n += "." + cur().value;
            next();
        }
        return n;
    }

    // "| f(args) | g" applied to e (null for {% filter %} / {% set x | f %}).
    ExprPtr parse_filter_chain(ExprPtr e, bool leading_bar = true) {
        bool first = true;
        while ((first && !leading_bar) || is_op("|")) {
            if (!(first && !leading_bar)) next();
            first = false;
            auto f = make(Expr::Filter, cur());
            f->name = dotted_name();
            f->args.push_back(std::move(e));
            if (is_op("(")) call_args(*f);
            e = std::move(f);
        }
        return e;
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        for (;;) {
            if (is_op("|")) {
                e = parse_filter_chain(std::move(e));
            } else if (is_name("is")) {
                auto t = make(Expr::Test, cur());
                next();
                t->negated = skip_name("not");
                t->name = dotted_name();
                t->args.push_back(std::move(e));
                if (is_op("(")) {
                    call_args(*t);
                } else if ((cur().kind == Tok::Name || cur().kind == Tok::String || cur().kind == Tok::Int ||
                            cur().kind == Tok::Float || is_op("[") || is_op("{")) &&
                           !is_name("else") && !is_name("or") && !is_name("and")) {
                    if (is_name("is")) error_at(cur(), "tests cannot be chained with 'is'");
                    t->args.push_back(parse_postfix(parse_primary()));
                }
                e = std::move(t);
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    const std::vector<Token>& t_;
    size_t i_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).run(); }

}  // namespace lmx::jinja
