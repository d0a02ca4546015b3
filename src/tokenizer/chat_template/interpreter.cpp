#include "tokenizer/chat_template/interpreter.hpp"

#include <cmath>

#include "base/error.hpp"

namespace lmx::jinja {

namespace {

constexpr int kMaxCallDepth = 200;  // macro recursion; Python's own limit stops jinja2 near here too

// An error that already names its line and column; outer nodes pass it on unchanged.
class PositionedError : public Error {
public:
    using Error::Error;
};

[[noreturn]] void rethrow_at(int line, int col, const std::exception& e) {
    if (dynamic_cast<const PositionedError*>(&e)) throw;
    std::string msg = "chat template: line " + std::to_string(line);
    msg += ", column ";
    msg += std::to_string(col);
    msg += ": ";
    msg += e.what();
    throw PositionedError(msg);
}

bool is_str(const Value& v) { return v.type == Type::String; }

[[noreturn]] void unsupported(const char* op, const Value& a, const Value& b) {
    fail("unsupported operand type(s) for ", op, ": '", type_name(a), "' and '", type_name(b), "'");
}

[[noreturn]] void overflow() { fail("integer overflow (lmx templates use 64-bit integers)"); }

int64_t add(int64_t x, int64_t y) {
    int64_t r;
    if (__builtin_add_overflow(x, y, &r)) overflow();
    return r;
}
int64_t sub(int64_t x, int64_t y) {
    int64_t r;
    if (__builtin_sub_overflow(x, y, &r)) overflow();
    return r;
}
int64_t mul(int64_t x, int64_t y) {
    int64_t r;
    if (__builtin_mul_overflow(x, y, &r)) overflow();
    return r;
}

Value arith(const std::string& op, const Value& a, const Value& b) {
    if (!a.is_number() || !b.is_number()) unsupported(op.c_str(), a, b);
    const bool ints = a.is_integer() && b.is_integer();
    const int64_t x = a.type == Type::Bool ? a.b : a.i, y = b.type == Type::Bool ? b.b : b.i;
    const double fx = a.as_double(), fy = b.as_double();
    if (op == "+") return ints ? Value::integer(add(x, y)) : Value::number(fx + fy);
    if (op == "-") return ints ? Value::integer(sub(x, y)) : Value::number(fx - fy);
    if (op == "*") return ints ? Value::integer(mul(x, y)) : Value::number(fx * fy);
    if (op == "/") {
        if (fy == 0) fail("division by zero");
        return Value::number(fx / fy);
    }
    if (op == "//" || op == "%") {
        if (ints) {
            if (y == 0) fail("integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) overflow();
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors
                q -= 1;
                m += y;
            }
            return Value::integer(op == "//" ? q : m);
        }
        if (fy == 0) fail("float division by zero");
        const double q = std::floor(fx / fy);
        if (op == "//") return Value::number(q);
        double m = std::fmod(fx, fy);
        if (m != 0 && ((m < 0) != (fy < 0))) m += fy;
        return Value::number(m);
    }
    // "**"
    if (ints && y >= 0) {
        int64_t result = 1, base = x;  // square-and-multiply with overflow checks
        for (int64_t e = y; e > 0; e >>= 1) {
            if (e & 1) result = mul(result, base);
            if (e > 1) base = mul(base, base);
        }
        return Value::integer(result);
    }
    if (fx == 0 && fy < 0) fail("0.0 cannot be raised to a negative power");
    return Value::number(std::pow(fx, fy));
}

Value repeat(const Value& seq, const Value& n, const Interpreter& in) {
    const int64_t times = std::max<int64_t>(0, n.type == Type::Bool ? n.b : n.i);
    if (is_str(seq)) {
        if (!seq.s.empty()) in.check_size(static_cast<size_t>(std::min<int64_t>(times, INT64_MAX / static_cast<int64_t>(seq.s.size()))) * seq.s.size());
        std::string out;
        for (int64_t k = 0; k < times; k++) out += seq.s;
        return Value::string(std::move(out));
    }
    in.check_size(static_cast<size_t>(std::min<int64_t>(times, 1 << 30)) * seq.list->size() * sizeof(Value));
    List out;
    for (int64_t k = 0; k < times; k++) out.insert(out.end(), seq.list->begin(), seq.list->end());
    return Value::make_list(std::move(out), seq.tuple);
}

bool less(const Value& a, const Value& b, const char* op, int depth = 0) {
    if (depth > 512) fail("values nested deeper than 512 levels");
    if (a.is_number() && b.is_number()) {
        if (a.is_integer() && b.is_integer()) return (a.type == Type::Bool ? a.b : a.i) < (b.type == Type::Bool ? b.b : b.i);
        return a.as_double() < b.as_double();
    }
    if (is_str(a) && is_str(b)) return a.s < b.s;  // UTF-8 byte order is code point order
    if (a.is_list() && b.is_list() && !a.generator && !b.generator) {
        for (size_t k = 0; k < a.list->size() && k < b.list->size(); k++) {
            if (equals((*a.list)[k], (*b.list)[k])) continue;
            return less((*a.list)[k], (*b.list)[k], op, depth + 1);
        }
        return a.list->size() < b.list->size();
    }
    if (a.is_undefined()) undefined_error(a);
    if (b.is_undefined()) undefined_error(b);
    fail("'", op, "' not supported between instances of '", type_name(a), "' and '", type_name(b), "'");
}

bool contains(const Value& container, const Value& item) {
    switch (container.type) {
        case Type::String:
            if (!is_str(item)) fail("'in <string>' requires string as left operand, not ", type_name(item));
            return container.s.find(item.s) != std::string::npos;
        case Type::List:
            for (const Value& x : *container.list)
                if (equals(x, item)) return true;
            return false;
        case Type::Dict: return container.dict->find(item) != nullptr;
        case Type::Undefined: return false;  // jinja2's Undefined iterates as empty
        default: fail("argument of type '", type_name(container), "' is not iterable");
    }
}

}  // namespace

bool less_than(const Value& a, const Value& b) { return less(a, b, "<"); }

const Value* Scope::find(std::string_view name) const {
    for (const Scope* s = this; s; s = s->parent.get())
        for (const auto& [k, v] : s->vars)
            if (k == name) return &v;
    return nullptr;
}

void Scope::set(const std::string& name, Value v) {
    for (auto& kv : vars)
        if (kv.first == name) {
            kv.second = std::move(v);
            return;
        }
    vars.emplace_back(name, std::move(v));
}

Interpreter::Interpreter(const ChatTemplateOptions& opts, Value context) : opts_(opts), root_(std::make_shared<Scope>()) {
    if (context.is_mapping())
        for (auto& [k, v] : context.dict->items)
            if (is_str(k)) root_->set(k.s, v);
}

void Interpreter::step() {
    if (++steps_ > opts_.max_steps) fail("the template ran more than ", opts_.max_steps, " steps; it loops too long");
}

void Interpreter::check_size(size_t bytes) const {
    if (bytes > opts_.max_output) fail("the template builds a string of ", bytes, " bytes, more than the limit of ", opts_.max_output);
}

std::string Interpreter::render(const Body& body) {
    std::string out;
    exec(body, root_, out);
    return out;
}

Interpreter::Flow Interpreter::exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out) {
    for (const auto& n : body) {
        Flow f;
        try {
            f = exec_node(*n, scope, out);
        } catch (const Error& e) {
            rethrow_at(n->line, n->col, e);
        }
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_node(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out) {
    step();
    switch (n.kind) {
        case Node::Text: out += n.text; break;
        case Node::Output: out += to_str(eval(*n.expr, scope)); break;
        case Node::If:
            for (const auto& [cond, body] : n.branches)
                if (eval(*cond, scope).truthy()) return exec(body, scope, out);
            return exec(n.else_body, scope, out);
        case Node::For: return exec_for(n, scope, out);
        case Node::Set: exec_set(n, scope, eval(*n.expr, scope)); break;
        case Node::SetBlock: {
            std::string text;
            exec(n.body, scope, text);
            Value v = Value::string(std::move(text));
            if (n.expr) v = filter_chain(*n.expr, std::move(v), scope);
            exec_set(n, scope, std::move(v));
            break;
        }
        case Node::Macro: scope->set(n.text, make_macro(n, scope)); break;
        case Node::CallBlock: {
            const Expr& call = *n.expr;
            Value fn = eval(*call.args[0], scope);
            Args a = eval_args(call, 1, scope);
            a.kw.emplace_back("caller", make_macro(n, scope, &n));
            out += to_str(this->call(fn, a));
            break;
        }
        case Node::FilterBlock: {
            std::string text;
            exec(n.body, scope, text);
            out += to_str(filter_chain(*n.expr, Value::string(std::move(text)), scope));
            break;
        }
        case Node::Break: return Flow::Break;
        case Node::Continue: return Flow::Continue;
    }
    check_size(out.size());
    return Flow::Normal;
}

// {% filter f|g %} and {% set x | f %}: the chain's innermost subject is null and
// stands for the captured block text.
Value Interpreter::filter_chain(const Expr& chain, Value text, const std::shared_ptr<Scope>& scope) {
    std::vector<const Expr*> filters;
    for (const Expr* f = &chain; f; f = f->args[0].get()) filters.push_back(f);
    for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
        Args a = eval_args(**it, 1, scope);
        text = filter(*this, (*it)->name, std::move(text), a);
    }
    return text;
}

void Interpreter::exec_set(const Node& n, const std::shared_ptr<Scope>& scope, Value v) {
    if (!n.attr.empty()) {
        const Value* ns = scope->find(n.targets[0]);
        if (!ns || ns->type != Type::Namespace) fail("cannot assign attribute on non-namespace object '", n.targets[0], "'");
        if (v.type == Type::Namespace || v.holds_namespace)
            fail("a namespace cannot hold a namespace (lmx keeps template values acyclic)");
        ns->dict->set(Value::string(n.attr), std::move(v));
        return;
    }
    if (n.targets.size() == 1) {
        scope->set(n.targets[0], std::move(v));
        return;
    }
    List items = iterate(v);
    if (items.size() != n.targets.size())
        fail(items.size() < n.targets.size() ? "not enough" : "too many", " values to unpack (expected ", n.targets.size(), ", got ", items.size(), ")");
    for (size_t k = 0; k < items.size(); k++) scope->set(n.targets[k], std::move(items[k]));
}

Interpreter::Flow Interpreter::exec_for(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out) {
    const List all = iterate(eval(*n.expr, scope));
    auto bind = [&](const std::shared_ptr<Scope>& s, const Value& item) {
        if (n.targets.size() == 1) {
            s->set(n.targets[0], item);
            return;
        }
        const List parts = iterate(item);
        if (parts.size() != n.targets.size())
            fail(parts.size() < n.targets.size() ? "not enough" : "too many", " values to unpack (expected ", n.targets.size(), ", got ", parts.size(), ")");
        for (size_t k = 0; k < parts.size(); k++) s->set(n.targets[k], parts[k]);
    };
    List items;
    if (n.cond) {
        for (const Value& item : all) {
            step();
            auto s = std::make_shared<Scope>();
            s->parent = scope;
            bind(s, item);
            if (eval(*n.cond, s).truthy()) items.push_back(item);
        }
    } else {
        items = all;
    }
    if (items.empty()) return exec(n.else_body, scope, out);
    const int64_t len = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < len; k++) {
        auto s = std::make_shared<Scope>();
        s->parent = scope;
        const Value& item = items[static_cast<size_t>(k)];
        bind(s, item);
        Value loop = Value::make_namespace();
        auto& d = *loop.dict;
        d.set(Value::string("index"), Value::integer(k + 1));
        d.set(Value::string("index0"), Value::integer(k));
        d.set(Value::string("revindex"), Value::integer(len - k));
        d.set(Value::string("revindex0"), Value::integer(len - k - 1));
        d.set(Value::string("first"), Value::boolean(k == 0));
        d.set(Value::string("last"), Value::boolean(k == len - 1));
        d.set(Value::string("length"), Value::integer(len));
        d.set(Value::string("depth"), Value::integer(1));
        d.set(Value::string("depth0"), Value::integer(0));
        d.set(Value::string("previtem"), k > 0 ? items[static_cast<size_t>(k - 1)] : Value::undefined("previtem"));
        d.set(Value::string("nextitem"), k + 1 < len ? items[static_cast<size_t>(k + 1)] : Value::undefined("nextitem"));
        d.set(Value::string("cycle"), Value::function([k](Args& a) {
                  if (a.pos.empty()) fail("no items for cycling given");
                  a.taken = a.pos.size();
                  return a.pos[static_cast<size_t>(k) % a.pos.size()];
              }));
        s->set("loop", std::move(loop));
        const Flow f = exec(n.body, s, out);
        if (f == Flow::Break) break;
    }
    return Flow::Normal;
}

Value Interpreter::make_macro(const Node& n, const std::shared_ptr<Scope>& scope, const Node* caller_of) {
    const Node* node = &n;
    std::weak_ptr<Scope> defined_in = scope;  // weak: a macro stored in its own scope must not keep it alive
    const std::string name = caller_of ? "caller" : n.text;
    return Value::function([this, node, defined_in, name](Args& a) {
        auto parent = defined_in.lock();
        if (!parent) fail("macro '", name, "' is called after its scope ended");
        if (++call_depth_ > kMaxCallDepth) {
            call_depth_--;
            fail("macro '", name, "' recursed deeper than ", kMaxCallDepth, " calls");
        }
        struct Leave {
            int& d;
            ~Leave() { d--; }
        } leave{call_depth_};
        auto s = std::make_shared<Scope>();
        s->parent = parent;
        for (size_t k = 0; k < node->params.size(); k++) {
            const Param& p = node->params[k];
            const bool given = a.has(k, p.name);
            Value v = a.take(k, p.name);
            if (!given && p.default_value) v = eval(*p.default_value, s);
            s->set(p.name, std::move(v));
        }
        Value caller = a.take(SIZE_MAX, "caller");
        if (!caller.is_undefined()) s->set("caller", std::move(caller));
        if (a.pos.size() > node->params.size())
            fail("macro '", name, "' takes not more than ", node->params.size(), " argument(s)");
        a.taken = a.pos.size();
        a.done(name);
        std::string out;
        exec(node->body, s, out);
        return Value::string(std::move(out));
    });
}

Value Interpreter::call(const Value& fn, Args& args) {
    if (fn.is_undefined()) undefined_error(fn);
    if (fn.type != Type::Function) fail("'", type_name(fn), "' object is not callable");
    step();
    return (*fn.fn)(args);
}

Args Interpreter::eval_args(const Expr& e, size_t first, const std::shared_ptr<Scope>& scope) {
    Args a;
    for (size_t k = first; k < e.args.size(); k++) a.pos.push_back(eval(*e.args[k], scope));
    for (const auto& [name, x] : e.kwargs) a.kw.emplace_back(name, eval(*x, scope));
    return a;
}

Value Interpreter::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
    try {
        return eval_inner(e, scope);
    } catch (const Error& err) {
        rethrow_at(e.line, e.col, err);
    }
}

Value Interpreter::eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope) {
    step();
    switch (e.kind) {
        case Expr::Literal: return e.value;
        case Expr::Name: {
            if (const Value* v = scope->find(e.name)) return *v;
            return global(*this, e.name);
        }
        case Expr::ListLit:
        case Expr::TupleLit: {
            List items;
            for (const auto& x : e.args) items.push_back(eval(*x, scope));
            return Value::make_list(std::move(items), e.kind == Expr::TupleLit);
        }
        case Expr::DictLit: {
            Value d = Value::make_dict();
            for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
                Value key = eval(*e.args[k], scope);
                if (key.is_list() && !key.tuple) fail("unhashable type: 'list'");
                if (key.is_mapping()) fail("unhashable type: 'dict'");
                Value v = eval(*e.args[k + 1], scope);
                absorb(d, key);
                absorb(d, v);
                d.dict->set(std::move(key), std::move(v));
            }
            return d;
        }
        case Expr::GetAttr: return get_attr(eval(*e.args[0], scope), e.name);
        case Expr::GetItem: return get_item(eval(*e.args[0], scope), eval(*e.args[1], scope));
        case Expr::Slice: {
            Value parts[3];
            for (int k = 0; k < 3; k++)
                parts[k] = e.args[static_cast<size_t>(k) + 1] ? eval(*e.args[static_cast<size_t>(k) + 1], scope) : Value::none();
            return slice(eval(*e.args[0], scope), parts[0], parts[1], parts[2]);
        }
        case Expr::Call: {
            Value fn = eval(*e.args[0], scope);
            Args a = eval_args(e, 1, scope);
            return call(fn, a);
        }
        case Expr::Filter: {
            Value subject = eval(*e.args[0], scope);
            Args a = eval_args(e, 1, scope);
            return filter(*this, e.name, std::move(subject), a);
        }
        case Expr::Test: {
            Value subject = eval(*e.args[0], scope);
            Args a = eval_args(e, 1, scope);
            return Value::boolean(test(*this, e.name, subject, a) != e.negated);
        }
        case Expr::Unary: {
            Value v = eval(*e.args[0], scope);
            if (e.name == "not") return Value::boolean(!v.truthy());
            if (v.is_undefined()) undefined_error(v);
            if (!v.is_number()) fail("bad operand type for unary ", e.name, ": '", type_name(v), "'");
            if (e.name == "+") return v.type == Type::Bool ? Value::integer(v.b) : v;
            if (v.type == Type::Float) return Value::number(-v.f);
            const int64_t x = v.type == Type::Bool ? v.b : v.i;
            if (x == INT64_MIN) overflow();
            return Value::integer(-x);
        }
        case Expr::Binary: return eval_binary(e, scope);
        case Expr::Cond:
            if (eval(*e.args[0], scope).truthy()) return eval(*e.args[1], scope);
            return e.args[2] ? eval(*e.args[2], scope) : Value::undefined();
    }
    return Value::undefined();
}

Value Interpreter::eval_binary(const Expr& e, const std::shared_ptr<Scope>& scope) {
    const std::string& op = e.name;
    Value a = eval(*e.args[0], scope);
    if (op == "and") return a.truthy() ? eval(*e.args[1], scope) : a;
    if (op == "or") return a.truthy() ? a : eval(*e.args[1], scope);
    Value b = eval(*e.args[1], scope);
    if (op == "==") return Value::boolean(equals(a, b));
    if (op == "!=") return Value::boolean(!equals(a, b));
    if (op == "<") return Value::boolean(less(a, b, "<"));
    if (op == ">") return Value::boolean(less(b, a, ">"));
    if (op == "<=") return Value::boolean(!less(b, a, "<="));
    if (op == ">=") return Value::boolean(!less(a, b, ">="));
    if (op == "in") return Value::boolean(contains(b, a));
    if (op == "not in") return Value::boolean(!contains(b, a));
    if (op == "~") {
        std::string s = to_str(a);
        s += to_str(b);
        check_size(s.size());
        return Value::string(std::move(s));
    }
    if (a.is_undefined()) undefined_error(a);
    if (b.is_undefined()) undefined_error(b);
    if (op == "+") {
        if (is_str(a) && is_str(b)) {
            // markupsafe: Markup + str escapes the str (and str + Markup likewise).
            std::string s = a.safe || !b.safe ? a.s : html_escape(a.s);
            s += b.safe || !a.safe ? b.s : html_escape(b.s);
            check_size(s.size());
            return Value::string(std::move(s), a.safe || b.safe);
        }
        if (is_str(a)) fail("can only concatenate str (not \"", type_name(b), "\") to str");
        if (a.is_list() && b.is_list() && !a.generator && !b.generator && a.tuple == b.tuple) {
            check_size((a.list->size() + b.list->size()) * sizeof(Value));
            List items = *a.list;
            items.insert(items.end(), b.list->begin(), b.list->end());
            return Value::make_list(std::move(items), a.tuple);
        }
        if (a.is_list() && !a.generator) fail("can only concatenate ", type_name(a), " (not \"", type_name(b), "\") to ", type_name(a));
    }
    if (op == "*") {
        if ((is_str(a) || (a.is_list() && !a.generator)) && b.is_integer()) return repeat(a, b, *this);
        if ((is_str(b) || (b.is_list() && !b.generator)) && a.is_integer()) return repeat(b, a, *this);
    }
    if (op == "%" && is_str(a)) fail("printf-style '%' formatting of strings is not supported by lmx templates");
    return arith(op, a, b);
}

}  // namespace lmx::jinja
