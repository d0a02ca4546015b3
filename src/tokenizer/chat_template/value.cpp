#include "tokenizer/chat_template/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <version>

#include "base/error.hpp"

namespace lmx::jinja {

namespace {
// Nesting beyond this in printed, compared or converted values is refused: the C++
// stack, unlike Python's, is not checked.
constexpr int kMaxNesting = 512;
void check_nesting(int depth) {
    if (depth > kMaxNesting) fail("values nested deeper than ", kMaxNesting, " levels");
}
}  // namespace

Value Value::undefined(std::string name) {
    Value v;
    v.s = std::move(name);
    return v;
}
Value Value::none() {
    Value v;
    v.type = Type::None;
    return v;
}
Value Value::boolean(bool x) {
    Value v;
    v.type = Type::Bool;
    v.b = x;
    return v;
}
Value Value::integer(int64_t x) {
    Value v;
    v.type = Type::Int;
    v.i = x;
    return v;
}
Value Value::number(double x) {
    Value v;
    v.type = Type::Float;
    v.f = x;
    return v;
}
Value Value::string(std::string x, bool safe) {
    Value v;
    v.type = Type::String;
    v.s = std::move(x);
    v.safe = safe;
    return v;
}
void absorb(Value& parent, const Value& child) {
    const int depth = child.nest + 1;
    check_nesting(depth);
    if (depth > parent.nest) parent.nest = static_cast<uint16_t>(depth);
    parent.holds_namespace = parent.holds_namespace || child.holds_namespace || child.type == Type::Namespace;
}

Value Value::make_list(List items, bool tuple) {
    Value v;
    for (const Value& x : items) absorb(v, x);
    v.type = Type::List;
    v.list = std::make_shared<List>(std::move(items));
    v.tuple = tuple;
    return v;
}
Value Value::make_dict() {
    Value v;
    v.type = Type::Dict;
    v.dict = std::make_shared<Dict>();
    return v;
}
Value Value::make_namespace() {
    Value v = make_dict();
    v.type = Type::Namespace;
    return v;
}
Value Value::function(Function f) {
    Value v;
    v.type = Type::Function;
    v.fn = std::make_shared<Function>(std::move(f));
    return v;
}

bool Value::truthy() const {
    switch (type) {
        case Type::Undefined:
        case Type::None: return false;
        case Type::Bool: return b;
        case Type::Int: return i != 0;
        case Type::Float: return f != 0;
        case Type::String: return !s.empty();
        case Type::List: return generator || !list->empty();
        case Type::Dict: return !dict->items.empty();
        case Type::Function:
        case Type::Namespace: return true;
    }
    return false;
}

double Value::as_double() const {
    if (type == Type::Float) return f;
    if (type == Type::Bool) return b ? 1 : 0;
    return static_cast<double>(i);
}

const Value* Dict::find(const Value& key) const {
    for (const auto& [k, v] : items)
        if (equals(k, key)) return &v;
    return nullptr;
}

void Dict::set(Value key, Value v) {
    for (auto& kv : items)
        if (equals(kv.first, key)) {
            kv.second = std::move(v);
            return;
        }
    items.emplace_back(std::move(key), std::move(v));
}

Value Args::take(size_t index, std::string_view name, Value fallback) {
    for (size_t k = 0; k < kw.size(); k++)
        if (kw[k].first == name) {
            Value v = std::move(kw[k].second);
            kw.erase(kw.begin() + static_cast<std::ptrdiff_t>(k));
            return v;
        }
    if (index < pos.size()) {
        taken = std::max(taken, index + 1);
        return pos[index];
    }
    return fallback;
}

bool Args::has(size_t index, std::string_view name) const {
    if (index < pos.size()) return true;
    for (const auto& kv : kw)
        if (kv.first == name) return true;
    return false;
}

void Args::done(std::string_view what) const {
    if (!kw.empty()) fail(what, "() got an unexpected keyword argument '", kw.front().first, "'");
    if (pos.size() > taken) fail(what, "() takes ", taken, " positional arguments but ", pos.size(), " were given");
}

const char* type_name(const Value& v) {
    switch (v.type) {
        case Type::Undefined: return "Undefined";
        case Type::None: return "NoneType";
        case Type::Bool: return "bool";
        case Type::Int: return "int";
        case Type::Float: return "float";
        case Type::String: return "str";
        case Type::List: return v.generator ? "generator" : v.tuple ? "tuple" : "list";
        case Type::Dict: return "dict";
        case Type::Function: return "function";
        case Type::Namespace: return "Namespace";
    }
    return "?";
}

static bool equals_at(const Value& a, const Value& b, int depth);
bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

static bool equals_at(const Value& a, const Value& b, int depth) {
    check_nesting(depth);
    if (a.is_number() && b.is_number()) {
        if (a.type == Type::Float || b.type == Type::Float) return a.as_double() == b.as_double();
        return (a.type == Type::Bool ? a.b : a.i) == (b.type == Type::Bool ? b.b : b.i);
    }
    if (a.type != b.type) return false;
    switch (a.type) {
        case Type::Undefined:
        case Type::None: return true;
        case Type::String: return a.s == b.s;
        case Type::List:
            if (a.tuple != b.tuple || a.list->size() != b.list->size()) return false;
            for (size_t k = 0; k < a.list->size(); k++)
                if (!equals_at((*a.list)[k], (*b.list)[k], depth + 1)) return false;
            return true;
        case Type::Dict:
            if (a.dict->items.size() != b.dict->items.size()) return false;
            for (const auto& [k, v] : a.dict->items) {
                const Value* o = b.dict->find(k);
                if (!o || !equals_at(v, *o, depth + 1)) return false;
            }
            return true;
        case Type::Function: return a.fn == b.fn;
        case Type::Namespace: return a.dict == b.dict;
        default: return false;
    }
}

// The shortest scientific digits that read back as d. Standard libraries without
// floating-point to_chars (libc++ before 17, e.g. Emscripten's) get the same digits from
// correctly rounded printf at increasing precision.
static std::string shortest_scientific(double d) {
    char buf[64];
#if defined(__cpp_lib_to_chars)
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    return std::string(buf, res.ptr);
#else
    for (int digits = 1;; digits++) {
        const int n = std::snprintf(buf, sizeof buf, "%.*e", digits - 1, d);
        if (digits >= 17 || std::strtod(buf, nullptr) == d) return std::string(buf, static_cast<size_t>(n));
    }
#endif
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    // Shortest round-trip digits, then Python's layout: fixed for 1e-4 <= |d| < 1e16.
    std::string sci = shortest_scientific(d);
    const size_t e = sci.find('e');
    std::string mant = sci.substr(0, e);
    const int exp10 = std::stoi(sci.substr(e + 1));
    std::string sign;
    if (mant[0] == '-') {
        sign = "-";
        mant.erase(0, 1);
    }
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    const int nd = static_cast<int>(digits.size());
    std::string out;
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            out = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
        } else if (exp10 + 1 >= nd) {
            out = digits + std::string(static_cast<size_t>(exp10 + 1 - nd), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<size_t>(exp10 + 1)) + "." + digits.substr(static_cast<size_t>(exp10 + 1));
        }
    } else {
        out = digits.substr(0, 1);
        if (nd > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
        out += eb;
    }
    return sign + out;
}

namespace {

// Decodes the code point at s[k] (invalid bytes stand for themselves); sets len.
uint32_t decode_utf8(std::string_view s, size_t k, size_t& len) {
    const auto c = static_cast<unsigned char>(s[k]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || k + static_cast<size_t>(n) > s.size()) {
        len = 1;
        return c;
    }
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (int j = 1; j < n; j++) {
        const auto cc = static_cast<unsigned char>(s[k + static_cast<size_t>(j)]);
        if ((cc >> 6) != 2) {
            len = 1;
            return c;
        }
        cp = (cp << 6) | (cc & 0x3f);
    }
    len = static_cast<size_t>(n);
    return cp;
}

// Python's str.isprintable() is false for controls, separators other than ' ' and
// format characters; the common ones are listed here.
bool python_printable(uint32_t cp) {
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad) return false;
    if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f)) return false;
    if ((cp >= 0x205f && cp <= 0x2064) || cp == 0x3000 || cp == 0xfeff) return false;
    return true;
}

std::string string_repr(const std::string& s) {
    const bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
    const char q = has_single && !has_double ? '"' : '\'';
    std::string out(1, q);
    for (size_t k = 0; k < s.size();) {
        size_t len;
        const uint32_t cp = decode_utf8(s, k, len);
        if (cp == static_cast<uint32_t>(q) || cp == '\\') {
            out += '\\';
            out += static_cast<char>(cp);
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (!python_printable(cp)) {
            char b[16];
            if (cp < 0x100) std::snprintf(b, sizeof b, "\\x%02x", cp);
            else std::snprintf(b, sizeof b, "\\u%04x", cp);
            out += b;
        } else {
            out.append(s, k, len);
        }
        k += len;
    }
    out += q;
    return out;
}

void json_string(std::string& out, const std::string& s) {
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
                    out += b;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return float_repr(d);
}

struct JsonWriter {
    int indent;
    std::string item_sep, key_sep;
    bool sort_keys;
    std::string out;

    void newline(int depth) {
        out += '\n';
        out.append(static_cast<size_t>(indent * depth), ' ');
    }

    std::string key_text(const Value& k) {
        switch (k.type) {
            case Type::String: return k.s;
            case Type::Bool: return k.b ? "true" : "false";
            case Type::None: return "null";
            case Type::Int: return std::to_string(k.i);
            case Type::Float: return json_float(k.f);
            default: fail("keys must be str, int, float, bool or None, not ", type_name(k));
        }
    }

    void write(const Value& v, int depth) {
        check_nesting(depth);
        switch (v.type) {
            case Type::None: out += "null"; return;
            case Type::Bool: out += v.b ? "true" : "false"; return;
            case Type::Int: out += std::to_string(v.i); return;
            case Type::Float: out += json_float(v.f); return;
            case Type::String: json_string(out, v.s); return;
            case Type::List: {
                if (v.generator) fail("Object of type generator is not JSON serializable");
                if (v.list->empty()) { out += "[]"; return; }
                out += '[';
                for (size_t k = 0; k < v.list->size(); k++) {
                    if (k) out += item_sep;
                    if (indent >= 0) newline(depth + 1);
                    write((*v.list)[k], depth + 1);
                }
                if (indent >= 0) newline(depth);
                out += ']';
                return;
            }
            case Type::Dict: {
                if (v.dict->items.empty()) { out += "{}"; return; }
                std::vector<std::pair<std::string, const Value*>> items;
                for (const auto& [k, x] : v.dict->items) items.emplace_back(key_text(k), &x);
                if (sort_keys)
                    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
                out += '{';
                for (size_t k = 0; k < items.size(); k++) {
                    if (k) out += item_sep;
                    if (indent >= 0) newline(depth + 1);
                    json_string(out, items[k].first);
                    out += key_sep;
                    write(*items[k].second, depth + 1);
                }
                if (indent >= 0) newline(depth);
                out += '}';
                return;
            }
            default: fail("Object of type ", type_name(v), " is not JSON serializable");
        }
    }
};

}  // namespace

static std::string repr_at(const Value& v, int depth);
std::string repr(const Value& v) { return repr_at(v, 0); }

static std::string repr_at(const Value& v, int depth) {
    check_nesting(depth);
    switch (v.type) {
        case Type::Undefined: return "Undefined";
        case Type::None: return "None";
        case Type::Bool: return v.b ? "True" : "False";
        case Type::Int: return std::to_string(v.i);
        case Type::Float: return float_repr(v.f);
        case Type::String: return v.safe ? "Markup(" + string_repr(v.s) + ")" : string_repr(v.s);
        case Type::List: {
            if (v.generator) return "<generator object>";
            std::string out = v.tuple ? "(" : "[";
            for (size_t k = 0; k < v.list->size(); k++) {
                if (k) out += ", ";
                out += repr_at((*v.list)[k], depth + 1);
            }
            if (v.tuple && v.list->size() == 1) out += ",";
            out += v.tuple ? ")" : "]";
            return out;
        }
        case Type::Dict:
        case Type::Namespace: {
            std::string out = v.type == Type::Namespace ? "<Namespace {" : "{";
            bool first = true;
            for (const auto& [k, x] : v.dict->items) {
                if (!first) out += ", ";
                first = false;
                out += repr_at(k, depth + 1);
                out += ": ";
                out += repr_at(x, depth + 1);
            }
            out += v.type == Type::Namespace ? "}>" : "}";
            return out;
        }
        case Type::Function: return "<function>";
    }
    return "";
}

std::string to_str(const Value& v) {
    if (v.type == Type::String) return v.s;
    if (v.type == Type::Undefined) return "";
    return repr(v);
}

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string to_json(const Value& v, int indent, std::string item_sep, std::string key_sep, bool sort_keys) {
    if (item_sep.empty()) item_sep = indent >= 0 ? "," : ", ";
    if (key_sep.empty()) key_sep = ": ";
    JsonWriter w{indent, std::move(item_sep), std::move(key_sep), sort_keys, {}};
    w.write(v, 0);
    return std::move(w.out);
}

static Value from_json_at(const nlohmann::ordered_json& j, int depth);
Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

static Value from_json_at(const nlohmann::ordered_json& j, int depth) {
    check_nesting(depth);
    using J = nlohmann::ordered_json::value_t;
    switch (j.type()) {
        case J::null: return Value::none();
        case J::boolean: return Value::boolean(j.get<bool>());
        case J::number_integer: return Value::integer(j.get<int64_t>());
        case J::number_unsigned: {
            const uint64_t u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
            return Value::integer(static_cast<int64_t>(u));
        }
        case J::number_float: return Value::number(j.get<double>());
        case J::string: return Value::string(j.get<std::string>());
        case J::array: {
            List items;
            for (const auto& x : j) items.push_back(from_json_at(x, depth + 1));
            return Value::make_list(std::move(items));
        }
        case J::object: {
            Value d = Value::make_dict();
            for (const auto& [k, x] : j.items()) {
                d.dict->items.emplace_back(Value::string(k), from_json_at(x, depth + 1));
                absorb(d, d.dict->items.back().second);
            }
            return d;
        }
        default: fail("unsupported JSON value (binary or discarded) in template input");
    }
}

std::vector<size_t> code_point_offsets(std::string_view s) {
    std::vector<size_t> off;
    for (size_t k = 0; k < s.size();) {
        off.push_back(k);
        size_t len;
        decode_utf8(s, k, len);
        k += len;
    }
    off.push_back(s.size());
    return off;
}

}  // namespace lmx::jinja
