#pragma once
// The values a Jinja template computes with, behaving as their Python counterparts
// do under jinja2: truthiness, equality (1 == 1.0 == True), str() and repr() text,
// insertion-ordered dicts, and json.dumps output for `tojson`.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmx::jinja {

struct Value;
using List = std::vector<Value>;
struct Dict;
struct Args;
using Function = std::function<Value(Args&)>;

enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict, Function, Namespace };

struct Value {
    Type type = Type::Undefined;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;        // String; for Undefined: the name that was not found
    bool safe = false;    // String marked safe (markupsafe.Markup): `+` escapes the other side
    bool tuple = false;   // List that is a Python tuple (printed with parentheses)
    bool generator = false;  // List produced lazily by map/select...: iterable but no len(), no json
    bool holds_namespace = false;  // a Namespace is inside: such values cannot go into a namespace (no cycles)
    uint16_t nest = 0;       // container depth (0: scalar), bounded so that printing and freeing stay shallow
    std::shared_ptr<List> list;
    std::shared_ptr<Dict> dict;  // Dict and Namespace (shared: `set ns.x` is seen by every holder)
    std::shared_ptr<Function> fn;

    Value() = default;
    static Value undefined(std::string name = {});
    static Value none();
    static Value boolean(bool v);
    static Value integer(int64_t v);
    static Value number(double v);
    static Value string(std::string v, bool safe = false);
    static Value make_list(List items, bool tuple = false);
    static Value make_dict();
    static Value make_namespace();
    static Value function(Function f);

    bool is_undefined() const { return type == Type::Undefined; }
    bool is_none() const { return type == Type::None; }
    bool is_string() const { return type == Type::String; }
    bool is_list() const { return type == Type::List; }
    bool is_dict() const { return type == Type::Dict; }
    bool is_mapping() const { return type == Type::Dict || type == Type::Namespace; }
    bool is_number() const { return type == Type::Int || type == Type::Float || type == Type::Bool; }
    bool is_integer() const { return type == Type::Int || type == Type::Bool; }
    bool truthy() const;
    double as_double() const;  // numbers only
};

// Records `child` as an element of the container `parent` (depth and namespace flag);
// fails when values nest deeper than the limit.
void absorb(Value& parent, const Value& child);

struct Dict {
    std::vector<std::pair<Value, Value>> items;
    const Value* find(const Value& key) const;
    void set(Value key, Value v);
};

// Positional and keyword arguments of a call, consumed by name or position.
struct Args {
    std::vector<Value> pos;
    std::vector<std::pair<std::string, Value>> kw;
    // The argument at `index` or named `name`, removed from the call; `fallback` when absent.
    Value take(size_t index, std::string_view name, Value fallback = Value::undefined());
    bool has(size_t index, std::string_view name) const;
    // Fails naming `what` when arguments remain that no parameter took.
    void done(std::string_view what) const;
    size_t taken = 0;  // positional arguments already consumed
};

const char* type_name(const Value& v);  // Python's name: 'str', 'int', 'NoneType'...
bool equals(const Value& a, const Value& b);
std::string to_str(const Value& v);   // Python str(); undefined prints as ""
std::string repr(const Value& v);     // Python repr()
std::string float_repr(double d);     // Python repr(float): 1.0, 0.1, 1e-05, 1e+16
std::string html_escape(std::string_view s);  // markupsafe.escape

// json.dumps(v, ensure_ascii=False, indent, separators, sort_keys). indent < 0: none.
// item_sep/key_sep empty: Python's defaults for the indent. Fails on undefined, functions, generators.
std::string to_json(const Value& v, int indent, std::string item_sep, std::string key_sep, bool sort_keys);

Value from_json(const nlohmann::ordered_json& j);

// UTF-8 helpers for Python's code-point string semantics (len, slicing, indexing).
std::vector<size_t> code_point_offsets(std::string_view s);  // start of every code point, then s.size()

}  // namespace lmx::jinja
