// jinja2's filters and tests, Python's str/dict/list methods and the globals HF
// templates use, with the semantics (and failures) of their Python originals.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

#include "base/error.hpp"
#include "tokenizer/chat_template/interpreter.hpp"

namespace lmx::jinja {

namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2's sandbox refuses larger ranges too

const Value& need_str(const Value& v, const char* what) {
    if (v.is_undefined()) undefined_error(v);
    if (v.type != Type::String) fail(what, " expects a string, got '", type_name(v), "'");
    return v;
}

int64_t need_int(const Value& v, const char* what) {
    if (v.type == Type::Bool) return v.b;
    if (v.type != Type::Int) fail(what, " expects an integer, got '", type_name(v), "'");
    return v.i;
}

// ---- Unicode-aware pieces of Python's str

uint32_t cp_at(const std::string& s, size_t off, size_t end) {
    const auto c = static_cast<unsigned char>(s[off]);
    const size_t n = end - off;
    if (c < 0x80 || n == 1) return c;
    uint32_t cp = n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; k++) cp = (cp << 6) | (static_cast<unsigned char>(s[off + k]) & 0x3f);
    return cp;
}

bool py_space(uint32_t c) {
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// strip/lstrip/rstrip: chars none -> whitespace, else the code points in chars.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
    std::vector<uint32_t> set;
    const bool ws = chars.is_none() || chars.is_undefined();
    if (!ws) {
        const std::string& c = need_str(chars, "strip").s;
        const auto off = code_point_offsets(c);
        for (size_t k = 0; k + 1 < off.size(); k++) set.push_back(cp_at(c, off[k], off[k + 1]));
    }
    auto drop = [&](uint32_t cp) { return ws ? py_space(cp) : std::find(set.begin(), set.end(), cp) != set.end(); };
    const auto off = code_point_offsets(s);
    size_t b = 0, e = off.size() - 1;
    if (left)
        while (b < e && drop(cp_at(s, off[b], off[b + 1]))) b++;
    if (right)
        while (e > b && drop(cp_at(s, off[e - 1], off[e]))) e--;
    return s.substr(off[b], off[e] - off[b]);
}

// ASCII case mapping; other letters are left as they are.
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (static_cast<unsigned char>(c) >= 0x80); }

std::string to_upper(std::string s) {
    for (char& c : s) c = upper(c);
    return s;
}
std::string to_lower(std::string s) {
    for (char& c : s) c = lower(c);
    return s;
}
std::string title(std::string s) {
    bool prev_cased = false;
    for (char& c : s) {
        c = prev_cased ? lower(c) : upper(c);
        prev_cased = alpha(c);
    }
    return s;
}
std::string capitalize(std::string s) {
    for (size_t k = 0; k < s.size(); k++) s[k] = k == 0 ? upper(s[k]) : lower(s[k]);
    return s;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to, int64_t count, size_t max_bytes) {
    auto check = [max_bytes](size_t n) {
        if (n > max_bytes) fail("replace builds a string of more than ", max_bytes, " bytes");
    };
    std::string out;
    if (from.empty()) {  // Python inserts `to` between every code point
        const auto off = code_point_offsets(s);
        int64_t n = 0;
        for (size_t k = 0; k + 1 < off.size(); k++) {
            if (count < 0 || n < count) { out += to; n++; }
            out.append(s, off[k], off[k + 1] - off[k]);
        }
        if (count < 0 || n < count) out += to;
        check(out.size());
        return out;
    }
    size_t pos = 0;
    for (int64_t n = 0; count < 0 || n < count; n++) {
        const size_t at = s.find(from, pos);
        if (at == std::string::npos) break;
        out.append(s, pos, at - pos);
        out += to;
        check(out.size());
        pos = at + from.size();
    }
    out.append(s, pos);
    return out;
}

List split(const std::string& s, const Value& sep, int64_t maxsplit) {
    List out;
    if (sep.is_none() || sep.is_undefined()) {
        const auto off = code_point_offsets(s);
        size_t k = 0;
        const size_t n = off.size() - 1;
        auto space_at = [&](size_t i) { return py_space(cp_at(s, off[i], off[i + 1])); };
        for (;;) {
            while (k < n && space_at(k)) k++;
            if (k == n) break;
            if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
                size_t e = n;
                while (e > k && space_at(e - 1)) e--;
                out.push_back(Value::string(s.substr(off[k], off[e] - off[k])));
                break;
            }
            const size_t b = k;
            while (k < n && !space_at(k)) k++;
            out.push_back(Value::string(s.substr(off[b], off[k] - off[b])));
        }
        return out;
    }
    const std::string& d = need_str(sep, "split").s;
    if (d.empty()) fail("empty separator");
    size_t pos = 0;
    for (;;) {
        const size_t at = maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit ? std::string::npos : s.find(d, pos);
        if (at == std::string::npos) {
            out.push_back(Value::string(s.substr(pos)));
            return out;
        }
        out.push_back(Value::string(s.substr(pos, at - pos)));
        pos = at + d.size();
    }
}

bool starts_or_ends(const std::string& s, const Value& arg, bool starts) {
    auto one = [&](const Value& p) {
        const std::string& x = need_str(p, starts ? "startswith" : "endswith").s;
        if (x.size() > s.size()) return false;
        return starts ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
    };
    if (arg.is_list() && arg.tuple) {
        for (const Value& p : *arg.list)
            if (one(p)) return true;
        return false;
    }
    return one(arg);
}

// ---- methods of str, dict and list, bound to their object

Value bound(const Value& obj, const std::string& name, Value (*fn)(const Value&, Args&)) {
    return Value::function([obj, fn, name](Args& a) {
        Value r = fn(obj, a);
        a.done(name);
        return r;
    });
}

Value str_method(const Value& obj, const std::string& name) {
    using F = Value (*)(const Value&, Args&);
    static const std::pair<const char*, F> table[] = {
        {"strip", [](const Value& o, Args& a) { return Value::string(strip(o.s, a.take(0, "chars", Value::none()), true, true)); }},
        {"lstrip", [](const Value& o, Args& a) { return Value::string(strip(o.s, a.take(0, "chars", Value::none()), true, false)); }},
        {"rstrip", [](const Value& o, Args& a) { return Value::string(strip(o.s, a.take(0, "chars", Value::none()), false, true)); }},
        {"split", [](const Value& o, Args& a) {
             Value sep = a.take(0, "sep", Value::none());
             return Value::make_list(split(o.s, sep, need_int(a.take(1, "maxsplit", Value::integer(-1)), "split")));
         }},
        {"upper", [](const Value& o, Args&) { return Value::string(to_upper(o.s)); }},
        {"lower", [](const Value& o, Args&) { return Value::string(to_lower(o.s)); }},
        {"title", [](const Value& o, Args&) { return Value::string(title(o.s)); }},
        {"capitalize", [](const Value& o, Args&) { return Value::string(capitalize(o.s)); }},
        {"startswith", [](const Value& o, Args& a) { return Value::boolean(starts_or_ends(o.s, a.take(0, "prefix"), true)); }},
        {"endswith", [](const Value& o, Args& a) { return Value::boolean(starts_or_ends(o.s, a.take(0, "suffix"), false)); }},
        {"find", [](const Value& o, Args& a) {
             const size_t at = o.s.find(need_str(a.take(0, "sub"), "find").s);
             if (at == std::string::npos) return Value::integer(-1);
             return Value::integer(static_cast<int64_t>(code_point_offsets(o.s.substr(0, at)).size()) - 1);
         }},
        {"count", [](const Value& o, Args& a) {
             const std::string sub = need_str(a.take(0, "sub"), "count").s;
             if (sub.empty()) return Value::integer(static_cast<int64_t>(code_point_offsets(o.s).size()));
             int64_t n = 0;
             for (size_t p = o.s.find(sub); p != std::string::npos; p = o.s.find(sub, p + sub.size())) n++;
             return Value::integer(n);
         }},
        {"join", [](const Value& o, Args& a) {
             std::string out;
             bool first = true;
             for (const Value& x : iterate(a.take(0, "iterable"))) {
                 if (!first) out += o.s;
                 first = false;
                 out += need_str(x, "str.join").s;
             }
             return Value::string(std::move(out));
         }},
    };
    for (const auto& [n, fn] : table)
        if (name == n) return bound(obj, name, fn);
    if (name == "replace")
        return bound(obj, name, [](const Value& o, Args& a) {
            const std::string from = need_str(a.take(0, "old"), "replace").s;
            const std::string to = need_str(a.take(1, "new"), "replace").s;
            const int64_t count = need_int(a.take(2, "count", Value::integer(-1)), "replace");
            return Value::string(replace(o.s, from, to, count, ChatTemplateOptions{}.max_output));
        });
    return Value::undefined(name);
}

Value unsafe_method(const Value& obj, const std::string& name) {
    const char* t = type_name(obj);
    return Value::function([t, name](Args&) -> Value {
        fail("access to attribute '", name, "' of '", t, "' object is unsafe (templates cannot modify their inputs)");
    });
}

Value dict_method(const Value& obj, const std::string& name) {
    if (name == "items")
        return bound(obj, name, [](const Value& o, Args&) {
            List out;
            for (const auto& [k, v] : o.dict->items) out.push_back(Value::make_list({k, v}, true));
            return Value::make_list(std::move(out));
        });
    if (name == "keys")
        return bound(obj, name, [](const Value& o, Args&) {
            List out;
            for (const auto& kv : o.dict->items) out.push_back(kv.first);
            return Value::make_list(std::move(out));
        });
    if (name == "values")
        return bound(obj, name, [](const Value& o, Args&) {
            List out;
            for (const auto& kv : o.dict->items) out.push_back(kv.second);
            return Value::make_list(std::move(out));
        });
    if (name == "get")
        return bound(obj, name, [](const Value& o, Args& a) {
            const Value key = a.take(0, "key");
            const Value fallback = a.take(1, "default", Value::none());
            const Value* v = o.dict->find(key);
            return v ? *v : fallback;
        });
    static const char* const mutating[] = {"update", "pop", "popitem", "setdefault", "clear"};
    for (const char* m : mutating)
        if (name == m) return unsafe_method(obj, name);
    return Value::undefined(name);
}

Value list_method(const Value& obj, const std::string& name) {
    if (name == "index" || name == "count")
        return bound(obj, name, name == "index" ? +[](const Value& o, Args& a) {
            const Value x = a.take(0, "value");
            for (size_t k = 0; k < o.list->size(); k++)
                if (equals((*o.list)[k], x)) return Value::integer(static_cast<int64_t>(k));
            fail(repr(x), " is not in list");
        } : +[](const Value& o, Args& a) {
            const Value x = a.take(0, "value");
            return Value::integer(std::count_if(o.list->begin(), o.list->end(), [&](const Value& y) { return equals(x, y); }));
        });
    static const char* const mutating[] = {"append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear"};
    for (const char* m : mutating)
        if (name == m) return unsafe_method(obj, name);
    return Value::undefined(name);
}

Value method(const Value& obj, const std::string& name) {
    if (!name.empty() && name[0] == '_') return Value::undefined(name);  // the sandbox hides private attributes
    switch (obj.type) {
        case Type::String: return str_method(obj, name);
        case Type::Dict: return dict_method(obj, name);
        case Type::List: return obj.generator ? Value::undefined(name) : list_method(obj, name);
        default: return Value::undefined(name);
    }
}

// ---- attribute paths ("function.name", "0") for map/selectattr/sort/join

Value attr_path(const Value& obj, const Value& path) {
    if (path.is_integer()) return get_item(obj, path);
    const std::string& p = need_str(path, "attribute").s;
    Value v = obj;
    size_t pos = 0;
    for (;;) {
        const size_t dot = p.find('.', pos);
        const std::string part = p.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 18;
        v = get_item(v, digits ? Value::integer(std::stoll(part)) : Value::string(part));
        if (dot == std::string::npos) return v;
        pos = dot + 1;
    }
}

Value generator(List items) {
    Value v = Value::make_list(std::move(items));
    v.generator = true;
    return v;
}

// Remaining positional/keyword args after `first`, passed on to a filter or test.
Args rest(Args& a, size_t first) {
    Args r;
    for (size_t k = first; k < a.pos.size(); k++) r.pos.push_back(a.pos[k]);
    r.kw = std::move(a.kw);
    a.kw.clear();
    a.taken = a.pos.size();
    return r;
}

Value select(Interpreter& in, const Value& seq, Args& a, bool by_attr, bool keep) {
    List out;
    const Value attr = by_attr ? a.take(0, "attribute") : Value::undefined();
    const size_t first = by_attr ? 1 : 0;
    const bool with_test = a.pos.size() > first;
    const std::string name = with_test ? need_str(a.pos[first], "select test name").s : "";
    if (with_test && !has_test(name)) fail("no test named '", name, "'");
    Args extra = with_test ? rest(a, first + 1) : rest(a, a.pos.size());
    for (const Value& x : seq.truthy() ? iterate(seq) : List{}) {  // jinja2 skips a falsy input (None) entirely
        const Value v = by_attr ? attr_path(x, attr) : x;
        Args t = extra;
        const bool ok = with_test ? test(in, name, v, t) : v.truthy();
        if (ok == keep) out.push_back(x);
    }
    return generator(std::move(out));
}

std::string indent(const std::string& s, const Value& width, bool first, bool blank, const Interpreter& in) {
    const std::string pad = width.is_string() ? width.s : std::string(static_cast<size_t>(std::clamp<int64_t>(need_int(width, "indent"), 0, 1 << 16)), ' ');
    std::vector<std::string> lines;  // str.splitlines() of s + "\n"
    const std::string t = s + "\n";
    size_t b = 0;
    for (size_t k = 0; k < t.size();) {
        size_t brk = 0;
        const auto c = static_cast<unsigned char>(t[k]);
        if (c == '\r' && k + 1 < t.size() && t[k + 1] == '\n') brk = 2;
        else if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) brk = 1;
        else if (c == 0xc2 && k + 1 < t.size() && static_cast<unsigned char>(t[k + 1]) == 0x85) brk = 2;
        else if (c == 0xe2 && k + 2 < t.size() && static_cast<unsigned char>(t[k + 1]) == 0x80 &&
                 (static_cast<unsigned char>(t[k + 2]) == 0xa8 || static_cast<unsigned char>(t[k + 2]) == 0xa9)) brk = 3;
        if (brk) {
            lines.push_back(t.substr(b, k - b));
            k += brk;
            b = k;
        } else {
            k++;
        }
    }
    in.check_size(s.size() + (lines.size() + 1) * pad.size());
    std::string rv;
    if (blank) {
        for (size_t k = 0; k < lines.size(); k++) {
            if (k) rv += "\n" + pad;
            rv += lines[k];
        }
    } else {
        rv = lines.empty() ? "" : lines[0];
        for (size_t k = 1; k < lines.size(); k++) {
            rv += "\n";
            if (!lines[k].empty()) rv += pad;
            rv += lines[k];
        }
    }
    return first ? pad + rv : rv;
}

Value to_list(const Value& v) { return Value::make_list(iterate(v)); }

Value first_or_last(const Value& v, bool last) {
    if (last && v.generator) fail("'", type_name(v), "' object is not reversible");
    const List items = iterate(v);
    if (items.empty()) return Value::undefined(last ? "last" : "first");
    return last ? items.back() : items.front();
}

Value sorted(Interpreter&, const Value& seq, Args& a) {
    const bool reverse = a.take(0, "reverse", Value::boolean(false)).truthy();
    const bool case_sensitive = a.take(1, "case_sensitive", Value::boolean(false)).truthy();
    const Value attr = a.take(2, "attribute", Value::none());
    List items = iterate(seq);
    auto key = [&](const Value& x) {
        Value k = attr.is_none() ? x : attr_path(x, attr);
        if (!case_sensitive && k.is_string()) k.s = to_lower(k.s);
        return k;
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        return reverse ? less_than(key(y), key(x)) : less_than(key(x), key(y));
    });
    return Value::make_list(std::move(items));
}

std::string json_of(const Value& v, Args& a) {
    const Value ind = a.take(SIZE_MAX, "indent", Value::none());
    const Value seps = a.take(SIZE_MAX, "separators", Value::none());
    const bool sort_keys = a.take(SIZE_MAX, "sort_keys", Value::boolean(false)).truthy();
    if (a.take(SIZE_MAX, "ensure_ascii", Value::boolean(false)).truthy())
        fail("tojson(ensure_ascii=true) is not supported; lmx writes UTF-8 as transformers does by default");
    int indent = -1;
    if (ind.is_string()) fail("tojson: string indents are not supported");
    if (!ind.is_none()) indent = static_cast<int>(std::clamp<int64_t>(need_int(ind, "tojson indent"), 0, 64));
    std::string item_sep, key_sep;
    if (!seps.is_none()) {
        const List s = iterate(seps);
        if (s.size() != 2) fail("tojson separators must be a pair (item_separator, key_separator)");
        item_sep = need_str(s[0], "tojson separators").s;
        key_sep = need_str(s[1], "tojson separators").s;
        if (item_sep.empty() || key_sep.empty()) fail("tojson: empty separators are not supported");
    }
    return to_json(v, indent, item_sep, key_sep, sort_keys);
}

using FilterFn = Value (*)(Interpreter&, Value&, Args&);

const std::pair<const char*, FilterFn> kFilters[] = {
    {"abs", [](Interpreter&, Value& v, Args&) {
         if (v.type == Type::Float) return Value::number(v.f < 0 ? -v.f : v.f);
         const int64_t x = need_int(v, "abs");
         if (x == INT64_MIN) fail("integer overflow");
         return Value::integer(x < 0 ? -x : x);
     }},
    {"attr", [](Interpreter&, Value& v, Args& a) { return get_attr(v, need_str(a.take(0, "name"), "attr").s); }},
    {"capitalize", [](Interpreter&, Value& v, Args&) { return Value::string(capitalize(to_str(v))); }},
    {"count", [](Interpreter&, Value& v, Args&) { return Value::integer(length(v)); }},
    {"default", [](Interpreter&, Value& v, Args& a) {
         const Value fallback = a.take(0, "default_value", Value::string(""));
         const bool boolean = a.take(1, "boolean", Value::boolean(false)).truthy();
         return v.is_undefined() || (boolean && !v.truthy()) ? fallback : v;
     }},
    {"dictsort", [](Interpreter&, Value& v, Args& a) {
         if (!v.is_dict()) fail("dictsort expects a mapping, got '", type_name(v), "'");
         const bool case_sensitive = a.take(0, "case_sensitive", Value::boolean(false)).truthy();
         const std::string by = need_str(a.take(1, "by", Value::string("key")), "dictsort").s;
         const bool reverse = a.take(2, "reverse", Value::boolean(false)).truthy();
         if (by != "key" && by != "value") fail("You can only sort by either 'key' or 'value'");
         List items;
         for (const auto& [k, x] : v.dict->items) items.push_back(Value::make_list({k, x}, true));
         const size_t at = by == "key" ? 0 : 1;
         auto key = [&](const Value& t) {
             Value k = (*t.list)[at];
             if (!case_sensitive && k.is_string()) k.s = to_lower(k.s);
             return k;
         };
         std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
             return reverse ? less_than(key(y), key(x)) : less_than(key(x), key(y));
         });
         return Value::make_list(std::move(items));
     }},
    {"escape", [](Interpreter&, Value& v, Args&) { return v.is_string() && v.safe ? v : Value::string(html_escape(to_str(v)), true); }},
    {"first", [](Interpreter&, Value& v, Args&) { return first_or_last(v, false); }},
    {"float", [](Interpreter&, Value& v, Args& a) {
         const Value fallback = a.take(0, "default", Value::number(0.0));
         if (v.is_number()) return Value::number(v.as_double());
         if (v.is_string()) {
             const std::string t = strip(v.s, Value::none(), true, true);
             char* end = nullptr;
             const double d = std::strtod(t.c_str(), &end);
             if (!t.empty() && end == t.c_str() + t.size()) return Value::number(d);
         }
         return fallback;
     }},
    {"indent", [](Interpreter& in, Value& v, Args& a) {
         const Value width = a.take(0, "width", Value::integer(4));
         const bool first = a.take(1, "first", Value::boolean(false)).truthy();
         const bool blank = a.take(2, "blank", Value::boolean(false)).truthy();
         std::string r = indent(to_str(v), width, first, blank, in);
         return Value::string(std::move(r), v.safe);
     }},
    {"int", [](Interpreter&, Value& v, Args& a) {
         const Value fallback = a.take(0, "default", Value::integer(0));
         if (v.is_integer()) return Value::integer(v.type == Type::Bool ? v.b : v.i);
         if (v.type == Type::Float) {
             if (!(v.f > -9.2e18 && v.f < 9.2e18)) return fallback;
             return Value::integer(static_cast<int64_t>(v.f));
         }
         if (v.is_string()) {
             const std::string t = strip(v.s, Value::none(), true, true);
             char* end = nullptr;
             errno = 0;
             const long long x = std::strtoll(t.c_str(), &end, 10);
             if (!t.empty() && end == t.c_str() + t.size() && errno == 0) return Value::integer(x);
             const double d = std::strtod(t.c_str(), &end);
             if (!t.empty() && end == t.c_str() + t.size() && d > -9.2e18 && d < 9.2e18) return Value::integer(static_cast<int64_t>(d));
         }
         return fallback;
     }},
    {"items", [](Interpreter&, Value& v, Args&) {
         if (v.is_undefined()) return generator({});
         if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
         List out;
         for (const auto& [k, x] : v.dict->items) out.push_back(Value::make_list({k, x}, true));
         return generator(std::move(out));
     }},
    {"join", [](Interpreter& in, Value& v, Args& a) {
         const std::string sep = to_str(a.take(0, "d", Value::string("")));
         const Value attr = a.take(1, "attribute", Value::none());
         std::string out;
         bool first = true;
         for (const Value& x : iterate(v)) {
             if (!first) out += sep;
             first = false;
             out += to_str(attr.is_none() ? x : attr_path(x, attr));
             in.check_size(out.size());
         }
         return Value::string(std::move(out));
     }},
    {"last", [](Interpreter&, Value& v, Args&) { return first_or_last(v, true); }},
    {"length", [](Interpreter&, Value& v, Args&) { return Value::integer(length(v)); }},
    {"list", [](Interpreter&, Value& v, Args&) { return to_list(v); }},
    {"lower", [](Interpreter&, Value& v, Args&) { return Value::string(to_lower(to_str(v))); }},
    {"map", [](Interpreter& in, Value& v, Args& a) {
         List out;
         if (!v.truthy()) v = generator({});  // jinja2 skips a falsy input (None) entirely
         if (a.has(SIZE_MAX, "attribute")) {
             const Value attr = a.take(SIZE_MAX, "attribute");
             const bool has_default = a.has(SIZE_MAX, "default");
             const Value fallback = a.take(SIZE_MAX, "default");
             for (const Value& x : iterate(v)) {
                 Value y = attr_path(x, attr);
                 out.push_back(has_default && y.is_undefined() ? fallback : y);
             }
             return generator(std::move(out));
         }
         if (a.pos.empty()) fail("map requires a filter name or attribute=");
         const std::string name = need_str(a.pos[0], "map filter name").s;
         if (!has_filter(name)) fail("no filter named '", name, "'");
         Args extra = rest(a, 1);
         for (const Value& x : iterate(v)) {
             Args f = extra;
             out.push_back(filter(in, name, x, f));
         }
         return generator(std::move(out));
     }},
    {"reject", [](Interpreter& in, Value& v, Args& a) { return select(in, v, a, false, false); }},
    {"rejectattr", [](Interpreter& in, Value& v, Args& a) { return select(in, v, a, true, false); }},
    {"replace", [](Interpreter& in, Value& v, Args& a) {
         const std::string s = to_str(v);
         const std::string from = to_str(a.take(0, "old"));
         const std::string to = to_str(a.take(1, "new"));
         const Value count = a.take(2, "count", Value::none());
         return Value::string(replace(s, from, to, count.is_none() ? -1 : need_int(count, "replace"), in.options().max_output));
     }},
    {"reverse", [](Interpreter&, Value& v, Args&) {
         if (v.is_string()) {
             const auto off = code_point_offsets(v.s);
             std::string out;
             for (size_t k = off.size() - 1; k > 0; k--) out.append(v.s, off[k - 1], off[k] - off[k - 1]);
             return Value::string(std::move(out));
         }
         if (v.generator || !v.is_list()) fail("argument to reverse() must be a sequence");
         List items(v.list->rbegin(), v.list->rend());
         return generator(std::move(items));
     }},
    {"safe", [](Interpreter&, Value& v, Args&) { return Value::string(to_str(v), true); }},
    {"select", [](Interpreter& in, Value& v, Args& a) { return select(in, v, a, false, true); }},
    {"selectattr", [](Interpreter& in, Value& v, Args& a) { return select(in, v, a, true, true); }},
    {"sort", [](Interpreter& in, Value& v, Args& a) { return sorted(in, v, a); }},
    {"string", [](Interpreter&, Value& v, Args&) { return v.is_string() ? v : Value::string(to_str(v)); }},
    {"sum", [](Interpreter&, Value& v, Args& a) {
         const Value attr = a.take(0, "attribute", Value::none());
         Value total = a.take(1, "start", Value::integer(0));
         for (const Value& x : iterate(v)) {
             const Value y = attr.is_none() ? x : attr_path(x, attr);
             if (!y.is_number() || !total.is_number()) fail("unsupported operand type(s) for +: '", type_name(total), "' and '", type_name(y), "'");
             if (total.is_integer() && y.is_integer()) {
                 int64_t r;
                 if (__builtin_add_overflow(total.type == Type::Bool ? total.b : total.i, y.type == Type::Bool ? y.b : y.i, &r)) fail("integer overflow");
                 total = Value::integer(r);
             } else {
                 total = Value::number(total.as_double() + y.as_double());
             }
         }
         return total;
     }},
    {"title", [](Interpreter&, Value& v, Args&) { return Value::string(title(to_str(v))); }},
    {"tojson", [](Interpreter&, Value& v, Args& a) { return Value::string(json_of(v, a)); }},
    {"trim", [](Interpreter&, Value& v, Args& a) { return Value::string(strip(to_str(v), a.take(0, "chars", Value::none()), true, true), v.safe); }},
    {"unique", [](Interpreter&, Value& v, Args& a) {
         const bool case_sensitive = a.take(0, "case_sensitive", Value::boolean(false)).truthy();
         const Value attr = a.take(1, "attribute", Value::none());
         List out, seen;
         for (const Value& x : iterate(v)) {
             Value k = attr.is_none() ? x : attr_path(x, attr);
             if (!case_sensitive && k.is_string()) k.s = to_lower(k.s);
             if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) continue;
             seen.push_back(k);
             out.push_back(x);
         }
         return generator(std::move(out));
     }},
    {"upper", [](Interpreter&, Value& v, Args&) { return Value::string(to_upper(to_str(v))); }},
    {"wordcount", [](Interpreter&, Value& v, Args&) { return Value::integer(static_cast<int64_t>(split(to_str(v), Value::none(), -1).size())); }},
};

const std::pair<const char*, const char*> kFilterAliases[] = {{"d", "default"}, {"e", "escape"}};

using TestFn = bool (*)(Interpreter&, const Value&, Args&);

bool compare_test(const Value& v, Args& a, const char* op) {
    const Value other = a.take(0, "other");
    if (!std::strcmp(op, "==")) return equals(v, other);
    if (!std::strcmp(op, "!=")) return !equals(v, other);
    if (!std::strcmp(op, "<")) return less_than(v, other);
    if (!std::strcmp(op, "<=")) return !less_than(other, v);
    if (!std::strcmp(op, ">")) return less_than(other, v);
    return !less_than(v, other);
}

const std::pair<const char*, TestFn> kTests[] = {
    {"boolean", [](Interpreter&, const Value& v, Args&) { return v.type == Type::Bool; }},
    {"callable", [](Interpreter&, const Value& v, Args&) { return v.type == Type::Function; }},
    {"defined", [](Interpreter&, const Value& v, Args&) { return !v.is_undefined(); }},
    {"divisibleby", [](Interpreter&, const Value& v, Args& a) {
         const int64_t d = need_int(a.take(0, "num"), "divisibleby");
         if (d == 0) fail("integer division or modulo by zero");
         return d == -1 || need_int(v, "divisibleby") % d == 0;
     }},
    {"eq", [](Interpreter&, const Value& v, Args& a) { return compare_test(v, a, "=="); }},
    {"escaped", [](Interpreter&, const Value& v, Args&) { return v.is_string() && v.safe; }},
    {"even", [](Interpreter&, const Value& v, Args&) { return need_int(v, "even") % 2 == 0; }},
    {"false", [](Interpreter&, const Value& v, Args&) { return v.type == Type::Bool && !v.b; }},
    {"filter", [](Interpreter&, const Value& v, Args&) { return v.is_string() && has_filter(v.s); }},
    {"float", [](Interpreter&, const Value& v, Args&) { return v.type == Type::Float; }},
    {"ge", [](Interpreter&, const Value& v, Args& a) { return compare_test(v, a, ">="); }},
    {"gt", [](Interpreter&, const Value& v, Args& a) { return compare_test(v, a, ">"); }},
    {"in", [](Interpreter&, const Value& v, Args& a) {
         const Value seq = a.take(0, "seq");
         if (seq.is_string()) return v.is_string() && seq.s.find(v.s) != std::string::npos;
         for (const Value& x : iterate(seq))
             if (equals(x, v)) return true;
         return false;
     }},
    {"integer", [](Interpreter&, const Value& v, Args&) { return v.type == Type::Int; }},
    {"iterable", [](Interpreter&, const Value& v, Args&) {
         return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
     }},
    {"le", [](Interpreter&, const Value& v, Args& a) { return compare_test(v, a, "<="); }},
    {"lower", [](Interpreter&, const Value& v, Args&) { return v.is_string() && to_lower(v.s) == v.s; }},
    {"lt", [](Interpreter&, const Value& v, Args& a) { return compare_test(v, a, "<"); }},
    {"mapping", [](Interpreter&, const Value& v, Args&) { return v.is_dict(); }},
    {"ne", [](Interpreter&, const Value& v, Args& a) { return compare_test(v, a, "!="); }},
    {"none", [](Interpreter&, const Value& v, Args&) { return v.is_none(); }},
    {"number", [](Interpreter&, const Value& v, Args&) { return v.is_number(); }},
    {"odd", [](Interpreter&, const Value& v, Args&) { return need_int(v, "odd") % 2 != 0; }},
    {"sameas", [](Interpreter&, const Value& v, Args& a) {
         const Value other = a.take(0, "other");
         if (v.type != other.type) return false;
         switch (v.type) {
             case Type::None:
             case Type::Undefined: return true;
             case Type::Bool: return v.b == other.b;
             case Type::List: return v.list == other.list;
             case Type::Dict:
             case Type::Namespace: return v.dict == other.dict;
             case Type::Function: return v.fn == other.fn;
             default: return equals(v, other);  // small ints and interned strings are identical in CPython
         }
     }},
    {"sequence", [](Interpreter&, const Value& v, Args&) { return v.is_string() || (v.is_list() && !v.generator) || v.is_dict(); }},
    {"string", [](Interpreter&, const Value& v, Args&) { return v.is_string(); }},
    {"test", [](Interpreter&, const Value& v, Args&) { return v.is_string() && has_test(v.s); }},
    {"true", [](Interpreter&, const Value& v, Args&) { return v.type == Type::Bool && v.b; }},
    {"undefined", [](Interpreter&, const Value& v, Args&) { return v.is_undefined(); }},
    {"upper", [](Interpreter&, const Value& v, Args&) { return v.is_string() && to_upper(v.s) == v.s; }},
};

const std::pair<const char*, const char*> kTestAliases[] = {
    {"equalto", "eq"}, {"==", "eq"}, {"!=", "ne"}, {"<", "lt"}, {"<=", "le"}, {">", "gt"}, {">=", "ge"},
    {"greaterthan", "gt"}, {"lessthan", "lt"},
};

template <class Table, class Aliases>
auto lookup(const Table& table, const Aliases& aliases, std::string_view name) -> decltype(table[0].second) {
    for (const auto& [alias, target] : aliases)
        if (name == alias) name = target;
    for (const auto& [n, fn] : table)
        if (name == n) return fn;
    return nullptr;
}

}  // namespace

bool has_filter(std::string_view name) { return lookup(kFilters, kFilterAliases, name) != nullptr; }
bool has_test(std::string_view name) { return lookup(kTests, kTestAliases, name) != nullptr; }

Value filter(Interpreter& in, std::string_view name, Value subject, Args& args) {
    const FilterFn fn = lookup(kFilters, kFilterAliases, name);
    if (!fn) fail("no filter named '", name, "'");
    Value r = fn(in, subject, args);
    args.done(std::string(name));
    return r;
}

bool test(Interpreter& in, std::string_view name, const Value& subject, Args& args) {
    const TestFn fn = lookup(kTests, kTestAliases, name);
    if (!fn) fail("no test named '", name, "'");
    const bool r = fn(in, subject, args);
    args.done(std::string(name));
    return r;
}

[[noreturn]] void undefined_error(const Value& u) {
    if (u.s.empty()) fail("a value is undefined");
    fail("'", u.s, "' is undefined");
}

Value get_attr(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) undefined_error(obj);
    if (obj.type == Type::Namespace) {
        const Value* v = obj.dict->find(Value::string(name));
        return v ? *v : Value::undefined(name);
    }
    Value m = method(obj, name);
    if (!m.is_undefined()) return m;
    if (obj.is_dict()) {
        const Value* v = obj.dict->find(Value::string(name));
        if (v) return *v;
    }
    return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key) {
    if (obj.is_undefined()) undefined_error(obj);
    if (obj.is_mapping()) {
        const Value* v = obj.dict->find(key);
        if (v) return *v;
    } else if ((obj.is_list() && !obj.generator) || obj.is_string()) {
        if (key.is_integer()) {
            int64_t k = key.type == Type::Bool ? key.b : key.i;
            if (obj.is_list()) {
                const auto n = static_cast<int64_t>(obj.list->size());
                if (k < 0) k += n;
                if (k >= 0 && k < n) return (*obj.list)[static_cast<size_t>(k)];
                return Value::undefined();
            }
            const auto off = code_point_offsets(obj.s);
            const auto n = static_cast<int64_t>(off.size()) - 1;
            if (k < 0) k += n;
            if (k >= 0 && k < n) return Value::string(obj.s.substr(off[static_cast<size_t>(k)], off[static_cast<size_t>(k) + 1] - off[static_cast<size_t>(k)]));
            return Value::undefined();
        }
    }
    if (key.is_string() && obj.type != Type::Namespace) return get_attr(obj, key.s);
    return Value::undefined();
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    if (obj.is_undefined()) undefined_error(obj);
    const bool str = obj.is_string();
    if (!str && (!obj.is_list() || obj.generator)) fail("'", type_name(obj), "' object is not subscriptable");
    std::vector<size_t> off;
    int64_t n;
    if (str) {
        off = code_point_offsets(obj.s);
        n = static_cast<int64_t>(off.size()) - 1;
    } else {
        n = static_cast<int64_t>(obj.list->size());
    }
    auto arg = [](const Value& v) -> std::optional<int64_t> {
        if (v.is_none()) return std::nullopt;
        if (!v.is_integer()) fail("slice indices must be integers or None, not ", type_name(v));
        return v.type == Type::Bool ? v.b : v.i;
    };
    const int64_t st = arg(step).value_or(1);
    if (st == 0) fail("slice step cannot be zero");
    // Python's PySlice_AdjustIndices.
    auto clamp = [&](std::optional<int64_t> x, int64_t dflt) {
        if (!x) return dflt;
        int64_t v = *x;
        if (v < 0) {
            v += n;
            if (v < 0) v = st < 0 ? -1 : 0;
        } else if (v >= n) {
            v = st < 0 ? n - 1 : n;
        }
        return v;
    };
    const int64_t b = clamp(arg(start), st < 0 ? n - 1 : 0);
    const int64_t e = clamp(arg(stop), st < 0 ? -1 : n);
    std::string s;
    List items;
    for (int64_t k = b; st > 0 ? k < e : k > e; k += st) {
        if (str) s.append(obj.s, off[static_cast<size_t>(k)], off[static_cast<size_t>(k) + 1] - off[static_cast<size_t>(k)]);
        else items.push_back((*obj.list)[static_cast<size_t>(k)]);
        if ((st > 0 && k > INT64_MAX - st) || (st < 0 && k < INT64_MIN - st)) break;
    }
    if (str) return Value::string(std::move(s));
    return Value::make_list(std::move(items), obj.tuple);
}

List iterate(const Value& v) {
    switch (v.type) {
        case Type::Undefined: return {};
        case Type::List: return *v.list;
        case Type::Dict: {
            List keys;
            for (const auto& kv : v.dict->items) keys.push_back(kv.first);
            return keys;
        }
        case Type::String: {
            List chars;
            const auto off = code_point_offsets(v.s);
            for (size_t k = 0; k + 1 < off.size(); k++) chars.push_back(Value::string(v.s.substr(off[k], off[k + 1] - off[k])));
            return chars;
        }
        default: fail("'", type_name(v), "' object is not iterable");
    }
}

int64_t length(const Value& v) {
    switch (v.type) {
        case Type::Undefined: return 0;
        case Type::String: return static_cast<int64_t>(code_point_offsets(v.s).size()) - 1;
        case Type::List:
            if (v.generator) fail("object of type 'generator' has no len()");
            return static_cast<int64_t>(v.list->size());
        case Type::Dict: return static_cast<int64_t>(v.dict->items.size());
        default: fail("object of type '", type_name(v), "' has no len()");
    }
}

Value global(Interpreter& in, std::string_view name) {
    if (name == "range")
        return Value::function([](Args& a) {
            const size_t n = a.pos.size();
            if (n < 1 || n > 3) fail("range expected 1 to 3 arguments, got ", n);
            a.taken = n;
            const int64_t start = n == 1 ? 0 : need_int(a.pos[0], "range");
            const int64_t stop = need_int(a.pos[n == 1 ? 0 : 1], "range");
            const int64_t step = n == 3 ? need_int(a.pos[2], "range") : 1;
            if (step == 0) fail("range() arg 3 must not be zero");
            List out;
            for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
                if (static_cast<int64_t>(out.size()) >= kMaxRange) fail("range too big, maximum size for range is ", kMaxRange);
                out.push_back(Value::integer(k));
                if ((step > 0 && k > INT64_MAX - step) || (step < 0 && k < INT64_MIN - step)) break;
            }
            return Value::make_list(std::move(out));
        });
    if (name == "namespace" || name == "dict")
        return Value::function([ns = name == "namespace"](Args& a) {
            Value d = ns ? Value::make_namespace() : Value::make_dict();
            for (const Value& init : a.pos) {
                if (!init.is_dict()) fail(ns ? "namespace" : "dict", "() positional arguments must be mappings");
                for (const auto& kv : init.dict->items) {
                    absorb(d, kv.second);
                    d.dict->set(kv.first, kv.second);
                }
            }
            a.taken = a.pos.size();
            for (auto& [k, x] : a.kw) {
                absorb(d, x);
                d.dict->set(Value::string(k), std::move(x));
            }
            if (ns && d.holds_namespace) fail("a namespace cannot hold a namespace (lmx keeps template values acyclic)");
            a.kw.clear();
            return d;
        });
    if (name == "raise_exception")
        return Value::function([](Args& a) -> Value {
            const Value msg = a.take(0, "message");
            fail(to_str(msg));
        });
    if (name == "strftime_now")
        return Value::function([&in](Args& a) {
            const std::string fmt = need_str(a.take(0, "format"), "strftime_now").s;
            a.done("strftime_now");
            std::tm tm{};
            if (in.options().now) {
                tm = *in.options().now;
            } else {
                const std::time_t t = std::time(nullptr);
                localtime_r(&t, &tm);
            }
            if (fmt.size() > 256) fail("strftime_now: format longer than 256 bytes");
            char buf[4096];
            const size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
            if (n == 0 && !fmt.empty()) fail("strftime_now: format '", fmt, "' gives an empty or too long result");
            return Value::string(std::string(buf, n));
        });
    return Value::undefined(std::string(name));
}

}  // namespace lmx::jinja
