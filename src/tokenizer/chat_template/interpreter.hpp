#pragma once
// Renders a parsed template: statements write to an output string, expressions
// evaluate to Values. The builtins (filters, tests, methods, globals) live in
// builtins.cpp and call back into the interpreter for map/select and macros.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat_template/ast.hpp"
#include "tokenizer/chat_template/chat_template.hpp"
#include "tokenizer/chat_template/value.hpp"

namespace lmx::jinja {

struct Scope {
    std::vector<std::pair<std::string, Value>> vars;
    std::shared_ptr<Scope> parent;
    const Value* find(std::string_view name) const;
    void set(const std::string& name, Value v);
};

class Interpreter {
public:
    Interpreter(const ChatTemplateOptions& opts, Value context);
    std::string render(const Body& body);

    // Used by builtins.
    Value call(const Value& fn, Args& args);
    void check_size(size_t bytes) const;
    const ChatTemplateOptions& options() const { return opts_; }

private:
    enum class Flow { Normal, Break, Continue };
    Flow exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out);
    Flow exec_node(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out);
    Flow exec_for(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out);
    void exec_set(const Node& n, const std::shared_ptr<Scope>& scope, Value v);
    Value filter_chain(const Expr& chain, Value text, const std::shared_ptr<Scope>& scope);
    Value make_macro(const Node& n, const std::shared_ptr<Scope>& scope, const Node* caller_of = nullptr);
    Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
    Value eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope);
    Value eval_binary(const Expr& e, const std::shared_ptr<Scope>& scope);
    Args eval_args(const Expr& e, size_t first, const std::shared_ptr<Scope>& scope);
    void step();

    const ChatTemplateOptions& opts_;
    std::shared_ptr<Scope> root_;
    int64_t steps_ = 0;
    int call_depth_ = 0;
};

// Filters and tests known to the template language (checked when a template is parsed,
// as jinja2 does at compile time).
bool has_filter(std::string_view name);
bool has_test(std::string_view name);
Value filter(Interpreter& in, std::string_view name, Value subject, Args& args);
bool test(Interpreter& in, std::string_view name, const Value& subject, Args& args);

// Python/jinja2 object protocol.
Value get_attr(const Value& obj, const std::string& name);  // env.getattr: methods, then items
Value get_item(const Value& obj, const Value& key);         // env.getitem: items, then methods
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
List iterate(const Value& v);                               // Python iter(); fails like Python
int64_t length(const Value& v);                             // Python len(); fails like Python
bool less_than(const Value& a, const Value& b);             // Python a < b; fails like Python
Value global(Interpreter& in, std::string_view name);        // range, namespace, dict, raise_exception, strftime_now
[[noreturn]] void undefined_error(const Value& u);

}  // namespace lmx::jinja
