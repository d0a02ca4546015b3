#include "tokenizer/regex.hpp"

#include <limits>

#include "base/error.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx {

namespace {

using unicode::GeneralCategory;

constexpr int kUnbounded = -1;
enum AssertKind : uint32_t { kLineBegin, kLineEnd, kTextBegin, kTextEnd, kTextEndOrNewline, kWordBoundary, kNotWordBoundary };

uint32_t bit(GeneralCategory gc) { return 1u << static_cast<uint32_t>(gc); }

// \p{...} names: the general categories and their major classes.
bool category_mask(std::string_view name, uint32_t& mask) {
    static const char* const kNames[] = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl",
                                         "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc",
                                         "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"};
    static const struct {
        const char *letter, *long_name;
    } kMajor[] = {{"L", "Letter"}, {"M", "Mark"}, {"N", "Number"}, {"P", "Punctuation"},
                  {"S", "Symbol"}, {"Z", "Separator"}, {"C", "Other"}};
    mask = 0;
    for (uint32_t i = 0; i < 30; ++i)
        if (name == kNames[i]) mask = 1u << i;
    for (const auto& m : kMajor) {
        if (name != m.letter && name != m.long_name) continue;
        for (uint32_t i = 0; i < 30; ++i)
            if (kNames[i][0] == m.letter[0]) mask |= 1u << i;
    }
    if (name == "L&" || name == "LC") mask = bit(GeneralCategory::Lu) | bit(GeneralCategory::Ll) | bit(GeneralCategory::Lt);
    return mask != 0;
}

// Oniguruma's Unicode \w: letters, marks, decimal digits and connector punctuation
// (plus Join_Control, U+200C and U+200D, which is_word adds).
uint32_t word_mask() {
    using G = GeneralCategory;
    return bit(G::Lu) | bit(G::Ll) | bit(G::Lt) | bit(G::Lm) | bit(G::Lo) | bit(G::Mn) | bit(G::Mc) | bit(G::Me) |
           bit(G::Nd) | bit(G::Pc);
}

// Simple case folding, enough for case-insensitive groups: the one-code-point lowercase,
// plus the two non-ASCII characters that fold onto ASCII letters (long s, Kelvin sign).
uint32_t fold(uint32_t cp) {
    if (cp == 0x17F) return 's';
    if (cp == 0x212A) return 'k';
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    const unicode::Mapping* m = unicode::find_mapping(unicode::kLowercase, unicode::kLowercaseCount, cp);
    return m && m->length == 1 ? unicode::kMappingPool[m->offset] : cp;
}

struct Node {
    enum Kind { Empty, Class, Concat, Alt, Repeat, Look, Assert } kind = Empty;
    std::vector<Node> kids;
    uint32_t value = 0;  // Class: class index; Assert: kind
    int min = 0, max = 0;
    bool greedy = true, possessive = false, negated = false;
};

}  // namespace

// Parses the pattern into a Node tree (classes go straight into the Regex) and emits
// the programs.
class RegexCompiler {
public:
    RegexCompiler(Regex& re, std::string_view pattern) : re_(re), src_(pattern) {
        for (const unicode::Char& c : unicode::decode_chars(pattern)) p_.push_back(c.cp);
    }

    void compile() {
        Node root = parse_alt(false);
        if (pos_ < p_.size()) error("unbalanced ')'");
        re_.programs_.emplace_back();
        emit_program(root, 0);
    }

private:
    [[noreturn]] void error(const std::string& what) const {
        fail("regex '", src_, "': ", what, " at character ", pos_,
             "; lmx supports the constructs HF tokenizer.json patterns use (classes, \\p{..}, quantifiers, "
             "(?i:..), lookaheads)");
    }
    bool more() const { return pos_ < p_.size(); }
    uint32_t peek() const { return more() ? p_[pos_] : 0; }
    bool eat(uint32_t c) {
        if (more() && p_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    uint32_t next() {
        if (!more()) error("unexpected end of pattern");
        return p_[pos_++];
    }

    uint32_t add_class(Regex::CharClass cls) {
        cls.icase = icase_;
        re_.classes_.push_back(std::move(cls));
        return static_cast<uint32_t>(re_.classes_.size() - 1);
    }
    Node class_node(Regex::CharClass cls) {
        Node n;
        n.kind = Node::Class;
        n.value = add_class(std::move(cls));
        return n;
    }
    static Regex::CharClass single(uint32_t cp) {
        Regex::CharClass c;
        c.items.push_back({Regex::ClassItem::Range, false, cp, cp});
        return c;
    }

    Node parse_alt(bool in_group) {
        Node alt;
        alt.kind = Node::Alt;
        alt.kids.push_back(parse_concat());
        while (eat('|')) alt.kids.push_back(parse_concat());
        if (in_group && !eat(')')) error("missing ')'");
        return alt.kids.size() == 1 ? std::move(alt.kids[0]) : alt;
    }

    Node parse_concat() {
        Node cat;
        cat.kind = Node::Concat;
        const bool saved_icase = icase_;
        while (more() && peek() != '|' && peek() != ')') {
            if (peek() == '(' && pos_ + 2 < p_.size() && p_[pos_ + 1] == '?' && p_[pos_ + 2] == 'i' &&
                pos_ + 3 < p_.size() && p_[pos_ + 3] == ')') {
                pos_ += 4;  // (?i) turns case folding on for the rest of the group
                icase_ = true;
                continue;
            }
            cat.kids.push_back(parse_repeat());
        }
        icase_ = saved_icase;
        return cat;
    }

    Node parse_repeat() {
        Node atom = parse_atom();
        for (;;) {
            int min, max;
            const size_t at = pos_;
            if (eat('*')) {
                min = 0, max = kUnbounded;
            } else if (eat('+')) {
                min = 1, max = kUnbounded;
            } else if (eat('?')) {
                min = 0, max = 1;
            } else if (peek() == '{' && parse_counts(min, max)) {
            } else {
                return atom;
            }
            if (atom.kind == Node::Look || atom.kind == Node::Assert) {
                pos_ = at;
                error("a quantifier on an assertion");
            }
            Node rep;
            rep.kind = Node::Repeat;
            rep.min = min;
            rep.max = max;
            if (eat('?')) {
                rep.greedy = false;
            } else if (eat('+')) {
                if (atom.kind != Node::Class) error("a possessive quantifier on more than one character class");
                rep.possessive = true;
            }
            rep.kids.push_back(std::move(atom));
            atom = std::move(rep);
        }
    }

    // {n}, {n,}, {n,m}; anything else is a literal '{' (as Oniguruma reads it).
    bool parse_counts(int& min, int& max) {
        size_t q = pos_ + 1;
        const auto number = [&](int& v) {
            const size_t start = q;
            v = 0;
            while (q < p_.size() && p_[q] >= '0' && p_[q] <= '9' && v < 100000) v = v * 10 + static_cast<int>(p_[q++] - '0');
            return q > start;
        };
        if (!number(min)) return false;
        max = min;
        if (q < p_.size() && p_[q] == ',') {
            ++q;
            if (!number(max)) max = kUnbounded;
        }
        if (q >= p_.size() || p_[q] != '}') return false;
        if (max != kUnbounded && max < min) error("a {n,m} with m < n");
        if (min > 1000 || max > 1000) error("a repetition count above 1000");
        pos_ = q + 1;
        return true;
    }

    Node parse_atom() {
        const uint32_t c = next();
        switch (c) {
            case '(': return parse_group();
            case '[': return class_node(parse_class());
            case '.': {
                Regex::CharClass cls = single('\n');
                cls.negated = true;
                return class_node(cls);
            }
            case '^': return assertion(kLineBegin);
            case '$': return assertion(kLineEnd);
            case '\\': return parse_escape_atom();
            case '*': case '+': case '?': --pos_; error("a quantifier with nothing to repeat");
            default: return class_node(single(c));
        }
    }

    static Node assertion(uint32_t kind) {
        Node n;
        n.kind = Node::Assert;
        n.value = kind;
        return n;
    }

    Node parse_group() {
        if (!eat('?')) return parse_alt(true);  // capture groups only group here
        const uint32_t c = next();
        if (c == ':') return parse_alt(true);
        if (c == '=' || c == '!') {
            Node look;
            look.kind = Node::Look;
            look.negated = c == '!';
            look.kids.push_back(parse_alt(true));
            return look;
        }
        if (c == 'i' && eat(':')) {
            const bool saved = icase_;
            icase_ = true;
            Node n = parse_alt(true);
            icase_ = saved;
            return n;
        }
        if (c == '<' && peek() != '=' && peek() != '!') {  // named group
            while (more() && peek() != '>') ++pos_;
            if (!eat('>')) error("an unterminated group name");
            return parse_alt(true);
        }
        if (c == '<') error("a lookbehind");
        if (c == '>') error("an atomic group");
        error("an unsupported group flag");
    }

    Node parse_escape_atom() {
        Regex::CharClass cls;
        const uint32_t c = peek();
        if (c == 'A') return ++pos_, assertion(kTextBegin);
        if (c == 'z') return ++pos_, assertion(kTextEnd);
        if (c == 'Z') return ++pos_, assertion(kTextEndOrNewline);
        if (c == 'b') return ++pos_, assertion(kWordBoundary);
        if (c == 'B') return ++pos_, assertion(kNotWordBoundary);
        if (c >= '1' && c <= '9') error("a backreference");
        uint32_t cp;
        if (parse_escape(cls, cp)) return class_node(cls);
        return class_node(single(cp));
    }

    // After a backslash: a class escape (fills cls, returns true) or one code point.
    bool parse_escape(Regex::CharClass& cls, uint32_t& cp) {
        using Item = Regex::ClassItem;
        const uint32_t c = next();
        switch (c) {
            case 's': cls.items.push_back({Item::Space, false, 0, 0}); return true;
            case 'S': cls.items.push_back({Item::Space, true, 0, 0}); return true;
            case 'd': cls.items.push_back({Item::Categories, false, bit(GeneralCategory::Nd), 0}); return true;
            case 'D': cls.items.push_back({Item::Categories, true, bit(GeneralCategory::Nd), 0}); return true;
            case 'w': cls.items.push_back({Item::Word, false, 0, 0}); return true;
            case 'W': cls.items.push_back({Item::Word, true, 0, 0}); return true;
            case 'h': cls.items.push_back({Item::Range, false, '0', '9'});  // hex digit
                cls.items.push_back({Item::Range, false, 'a', 'f'});
                cls.items.push_back({Item::Range, false, 'A', 'F'});
                return true;
            case 'p':
            case 'P': {
                if (!eat('{')) error("\\p without {name}");
                bool negated = c == 'P';
                if (eat('^')) negated = !negated;
                std::string name;
                while (more() && peek() != '}') name += static_cast<char>(next());
                if (!eat('}')) error("an unterminated \\p{");
                uint32_t mask;
                if (!category_mask(name, mask)) error("the Unicode property \\p{" + name + "}");
                cls.items.push_back({Item::Categories, negated, mask, 0});
                return true;
            }
            case 'n': cp = '\n'; return false;
            case 'r': cp = '\r'; return false;
            case 't': cp = '\t'; return false;
            case 'f': cp = '\f'; return false;
            case 'v': cp = '\v'; return false;
            case 'a': cp = 0x07; return false;
            case 'e': cp = 0x1B; return false;
            case '0': cp = 0; return false;
            case 'x': cp = parse_hex(eat('{') ? 8 : 2, peek() == '}' || p_[pos_ - 1] == '{'); return false;
            case 'u': cp = parse_hex(4, false); return false;
            default:
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                    --pos_;
                    error(std::string("the escape \\") + static_cast<char>(c));
                }
                cp = c;  // an escaped symbol stands for itself
                return false;
        }
    }

    uint32_t parse_hex(int max_digits, bool braced) {
        uint32_t v = 0;
        int n = 0;
        for (; n < max_digits && more(); ++n) {
            const uint32_t h = peek();
            const int d = h >= '0' && h <= '9' ? int(h - '0') : h >= 'a' && h <= 'f' ? int(h - 'a' + 10)
                                                            : h >= 'A' && h <= 'F' ? int(h - 'A' + 10) : -1;
            if (d < 0) break;
            v = v * 16 + static_cast<uint32_t>(d);
            ++pos_;
        }
        if (n == 0) error("a \\x or \\u escape without hex digits");
        if (braced && !eat('}')) error("an unterminated \\x{");
        if (v > 0x10FFFF) error("a code point above U+10FFFF");
        return v;
    }

    Regex::CharClass parse_class() {
        using Item = Regex::ClassItem;
        Regex::CharClass cls;
        cls.negated = eat('^');
        bool first = true;
        while (first || peek() != ']') {
            if (!more()) error("an unterminated character class");
            if (peek() == '[') error("a nested character class");
            if (peek() == '&' && pos_ + 1 < p_.size() && p_[pos_ + 1] == '&') error("a class intersection");
            first = false;
            uint32_t lo;
            if (eat('\\')) {
                if (parse_escape(cls, lo)) continue;
            } else {
                lo = next();
            }
            uint32_t hi = lo;
            if (peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
                ++pos_;
                if (eat('\\')) {
                    Regex::CharClass ignored;
                    if (parse_escape(ignored, hi)) error("a range ending in a class escape");
                } else {
                    hi = next();
                }
                if (hi < lo) error("a character range out of order");
            }
            cls.items.push_back({Item::Range, false, lo, hi});
        }
        ++pos_;  // ']'
        return cls;
    }

    // --- code generation ---------------------------------------------------------

    Regex::Program& prog(size_t index) { return re_.programs_[index]; }
    uint32_t here(size_t p) { return static_cast<uint32_t>(prog(p).code.size()); }
    uint32_t emit(size_t p, Regex::Inst inst) {
        if (prog(p).code.size() > 100000) error("a pattern that compiles to more than 100000 instructions");
        prog(p).code.push_back(inst);
        return here(p) - 1;
    }
    uint32_t emit_split(size_t p) {
        return emit(p, {Regex::Op::Split, false, 0, 0, prog(p).n_splits++});
    }

    void emit_program(const Node& root, size_t p) {
        emit_node(root, p);
        emit(p, {Regex::Op::Match, false, 0, 0, 0});
    }

    void emit_node(const Node& n, size_t p) {
        switch (n.kind) {
            case Node::Empty: return;
            case Node::Class: emit(p, {Regex::Op::Class, false, n.value, 0, 0}); return;
            case Node::Assert: emit(p, {Regex::Op::Assert, false, n.value, 0, 0}); return;
            case Node::Concat:
                for (const Node& k : n.kids) emit_node(k, p);
                return;
            case Node::Alt: {
                std::vector<uint32_t> jumps;
                for (size_t i = 0; i < n.kids.size(); ++i) {
                    uint32_t split = 0;
                    if (i + 1 < n.kids.size()) {
                        split = emit_split(p);
                        prog(p).code[split].a = here(p);
                    }
                    emit_node(n.kids[i], p);
                    if (i + 1 < n.kids.size()) {
                        jumps.push_back(emit(p, {Regex::Op::Jump, false, 0, 0, 0}));
                        prog(p).code[split].b = here(p);
                    }
                }
                for (uint32_t j : jumps) prog(p).code[j].a = here(p);
                return;
            }
            case Node::Look: {
                const size_t sub = re_.programs_.size();
                re_.programs_.emplace_back();
                emit_program(n.kids[0], sub);
                emit(p, {Regex::Op::Look, n.negated, static_cast<uint32_t>(sub), 0, 0});
                return;
            }
            case Node::Repeat: emit_repeat(n, p); return;
        }
    }

    // Oriented split: the preferred branch first for greedy loops, last for lazy ones.
    void set_split(size_t p, uint32_t split, uint32_t body, uint32_t exit, bool greedy) {
        prog(p).code[split].a = greedy ? body : exit;
        prog(p).code[split].b = greedy ? exit : body;
    }

    void emit_repeat(const Node& n, size_t p) {
        const Node& body = n.kids[0];
        if (n.possessive) {
            emit(p, {Regex::Op::Run, false, body.value, static_cast<uint32_t>(n.min),
                     n.max == kUnbounded ? std::numeric_limits<uint32_t>::max() : static_cast<uint32_t>(n.max)});
            return;
        }
        for (int i = 0; i < n.min; ++i) emit_node(body, p);
        if (n.max == kUnbounded) {
            const uint32_t split = emit_split(p);
            emit_node(body, p);
            emit(p, {Regex::Op::Jump, false, split, 0, 0});
            set_split(p, split, split + 1, here(p), n.greedy);
            return;
        }
        std::vector<uint32_t> splits;
        for (int i = n.min; i < n.max; ++i) {
            splits.push_back(emit_split(p));
            emit_node(body, p);
        }
        for (uint32_t s : splits) set_split(p, s, s + 1, here(p), n.greedy);
    }

    Regex& re_;
    std::string_view src_;
    std::vector<uint32_t> p_;
    size_t pos_ = 0;
    bool icase_ = false;
};

// Runs the programs over one text, with the per-text character data and memo tables.
class RegexRunner {
public:
    RegexRunner(const Regex& re, std::u32string_view text) : re_(re), t_(text), gc_(text.size()), space_(text.size()) {
        for (size_t i = 0; i < text.size(); ++i) {
            gc_[i] = unicode::general_category(text[i]);
            space_[i] = unicode::is_whitespace(text[i]);
        }
        memo_.resize(re.programs_.size());
        look_cache_.resize(re.programs_.size());
        for (size_t i = 0; i < re.programs_.size(); ++i) {
            memo_[i].assign(static_cast<size_t>(re.programs_[i].n_splits) * (text.size() + 1), false);
            if (i > 0) look_cache_[i].assign(text.size() + 1, kUnknown);
        }
    }

    // The end of the match of program 0 starting at `start`, or npos.
    size_t match_at(size_t start) {
        const size_t end = run(0, start);
        // The states at the match's end were marked on the way to Match, not because they
        // failed: forget them so that the next search, which starts there, can use them.
        if (end != npos) clear_memo_at(0, end);
        return end;
    }

    static constexpr size_t npos = static_cast<size_t>(-1);

private:
    enum : uint8_t { kUnknown, kFalse, kTrue };

    bool class_matches(uint32_t index, size_t pos) const {
        const Regex::CharClass& cls = re_.classes_[index];
        const uint32_t cp = t_[pos];
        bool hit = item_hit(cls, cp, pos);
        if (!hit && cls.icase) {
            const uint32_t f = fold(cp);
            // Compare against the folded character and the ASCII upper case of an ASCII fold.
            hit = (f != cp && items_contain(cls, f)) || (f >= 'a' && f <= 'z' && items_contain(cls, f - 32)) ||
                  range_folds_to(cls, f);
        }
        return hit != cls.negated;
    }

    bool item_hit(const Regex::CharClass& cls, uint32_t cp, size_t pos) const {
        using Item = Regex::ClassItem;
        for (const Item& it : cls.items) {
            bool h = false;
            switch (it.kind) {
                case Item::Range: h = cp >= it.lo && cp <= it.hi; break;
                case Item::Categories: h = (it.lo & bit(gc_[pos])) != 0; break;
                case Item::Space: h = space_[pos]; break;
                case Item::Word: h = is_word(pos); break;
            }
            if (h != it.negated) return true;
        }
        return false;
    }
    static bool items_contain(const Regex::CharClass& cls, uint32_t cp) {
        for (const Regex::ClassItem& it : cls.items)
            if (it.kind == Regex::ClassItem::Range && !it.negated && cp >= it.lo && cp <= it.hi) return true;
        return false;
    }
    // A literal in the class whose fold equals f (e.g. 'S' for 's', or 's' for U+017F).
    static bool range_folds_to(const Regex::CharClass& cls, uint32_t f) {
        for (const Regex::ClassItem& it : cls.items)
            if (it.kind == Regex::ClassItem::Range && !it.negated && it.lo == it.hi && fold(it.lo) == f) return true;
        return false;
    }

    bool is_word(size_t pos) const {
        return pos < t_.size() && ((word_mask() & bit(gc_[pos])) != 0 || t_[pos] == 0x200C || t_[pos] == 0x200D);
    }

    bool assertion(uint32_t kind, size_t pos) const {
        const size_t n = t_.size();
        switch (kind) {
            case kLineBegin: return pos == 0 || t_[pos - 1] == '\n';
            case kLineEnd: return pos == n || t_[pos] == '\n';
            case kTextBegin: return pos == 0;
            case kTextEnd: return pos == n;
            case kTextEndOrNewline: return pos == n || (pos + 1 == n && t_[pos] == '\n');
            case kWordBoundary: return (pos > 0 && is_word(pos - 1)) != is_word(pos);
            default: return (pos > 0 && is_word(pos - 1)) == is_word(pos);
        }
    }

    bool look(uint32_t program, size_t pos) {
        uint8_t& cached = look_cache_[program][pos];
        if (cached == kUnknown) {
            cached = run(program, pos) != npos ? kTrue : kFalse;
            clear_memo_all(program);
        }
        return cached == kTrue;
    }

    void clear_memo_at(uint32_t program, size_t pos) {
        const size_t stride = t_.size() + 1;
        for (uint32_t s = 0; s < re_.programs_[program].n_splits; ++s) memo_[program][s * stride + pos] = false;
    }
    void clear_memo_all(uint32_t program) {
        if (!touched_[program].empty()) {
            for (size_t i : touched_[program]) memo_[program][i] = false;
            touched_[program].clear();
        }
    }

    size_t run(uint32_t program, size_t start) {
        const std::vector<Regex::Inst>& code = re_.programs_[program].code;
        std::vector<bool>& memo = memo_[program];
        const size_t stride = t_.size() + 1;
        if (touched_.size() < re_.programs_.size()) touched_.resize(re_.programs_.size());
        std::vector<std::pair<uint32_t, size_t>> stack;
        stack.emplace_back(0, start);
        while (!stack.empty()) {
            uint32_t pc = stack.back().first;
            size_t pos = stack.back().second;
            stack.pop_back();
            for (;;) {
                const Regex::Inst& in = code[pc];
                bool ok = true;
                switch (in.op) {
                    case Regex::Op::Match: return pos;
                    case Regex::Op::Class:
                        ok = pos < t_.size() && class_matches(in.a, pos);
                        ++pc, ++pos;
                        break;
                    case Regex::Op::Jump: pc = in.a; break;
                    case Regex::Op::Split: {
                        const size_t m = in.c * stride + pos;
                        if (memo[m]) {
                            ok = false;
                            break;
                        }
                        memo[m] = true;
                        if (program > 0) touched_[program].push_back(m);
                        stack.emplace_back(in.b, pos);
                        pc = in.a;
                        break;
                    }
                    case Regex::Op::Look:
                        ok = look(in.a, pos) != in.flag;
                        ++pc;
                        break;
                    case Regex::Op::Assert:
                        ok = assertion(in.a, pos);
                        ++pc;
                        break;
                    case Regex::Op::Run: {
                        uint32_t k = 0;
                        while (k < in.c && pos + k < t_.size() && class_matches(in.a, pos + k)) ++k;
                        ok = k >= in.b;
                        pos += k;
                        ++pc;
                        break;
                    }
                }
                if (!ok) break;
            }
        }
        return npos;
    }

    const Regex& re_;
    std::u32string_view t_;
    std::vector<GeneralCategory> gc_;
    std::vector<bool> space_;
    std::vector<std::vector<bool>> memo_;                 // per program: n_splits x (text length + 1)
    std::vector<std::vector<size_t>> touched_;            // lookahead memo bits to reset after each use
    std::vector<std::vector<uint8_t>> look_cache_;        // per lookahead program and position
};

Regex::Regex(std::string_view pattern) { RegexCompiler(*this, pattern).compile(); }

std::vector<Regex::Span> Regex::find_all(std::u32string_view text) const {
    std::vector<Span> out;
    RegexRunner runner(*this, text);
    for (size_t start = 0; start < text.size();) {
        const size_t end = runner.match_at(start);
        if (end == RegexRunner::npos || end == start) {
            ++start;
            continue;
        }
        out.push_back({start, end});
        start = end;
    }
    return out;
}

}  // namespace lmx
