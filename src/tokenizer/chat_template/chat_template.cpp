#include "tokenizer/chat_template/chat_template.hpp"

#include "base/error.hpp"
#include "tokenizer/chat_template/interpreter.hpp"
#include "tokenizer/chat_template/lexer.hpp"
#include "tokenizer/chat_template/parser.hpp"

namespace lmx {

struct ChatTemplate::Program {
    jinja::Body body;
};

namespace {

// jinja2 resolves filter and test names when it compiles a template, so an unknown
// one fails even in a branch that never runs; so do we.
void check_names(const jinja::Expr* e) {
    if (!e) return;
    if (e->kind == jinja::Expr::Filter && !jinja::has_filter(e->name))
        fail("chat template: line ", e->line, ", column ", e->col, ": no filter named '", e->name, "'");
    if (e->kind == jinja::Expr::Test && !jinja::has_test(e->name))
        fail("chat template: line ", e->line, ", column ", e->col, ": no test named '", e->name, "'");
    for (const auto& a : e->args) check_names(a.get());
    for (const auto& kv : e->kwargs) check_names(kv.second.get());
}

void check_names(const jinja::Body& body) {
    for (const auto& n : body) {
        check_names(n->expr.get());
        check_names(n->cond.get());
        for (const auto& [cond, b] : n->branches) {
            check_names(cond.get());
            check_names(b);
        }
        for (const auto& p : n->params) check_names(p.default_value.get());
        check_names(n->body);
        check_names(n->else_body);
    }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string_view source) : program_(std::make_unique<Program>()) {
    program_->body = jinja::parse(jinja::lex(source));
    check_names(program_->body);
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& context, const ChatTemplateOptions& opts) const {
    if (!context.is_object()) fail("chat template context must be a JSON object of variables");
    jinja::Interpreter in(opts, jinja::from_json(context));
    return in.render(program_->body);
}

}  // namespace lmx
