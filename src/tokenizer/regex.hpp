#pragma once
// The regular expressions of HF tokenizer.json files (Split patterns and the like),
// with Oniguruma's semantics as HF `tokenizers` uses them: leftmost-first alternation,
// greedy / lazy / possessive quantifiers, {n,m}, classes with \p{L} \p{Lu} \p{N}... \s
// \d \w and ranges, (?i:...) groups, lookaheads (?=...) (?!...), ^ $ \A \z.
//
// Engine: a backtracking VM with a visited bit per (alternation point, position), as in
// RE2's BitState: a state that was reached before and did not lead to a match is never
// explored again, so scanning a whole text costs O(program size x text length) however
// the pattern backtracks. Possessive quantifiers are supported on a single character
// or class (how real patterns use them); backreferences and lookbehinds are rejected
// at compile time with an error naming them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmx {

class Regex {
public:
    // Throws lmx::Error naming the unsupported construct or the syntax error.
    explicit Regex(std::string_view pattern);

    struct Span {
        size_t begin, end;  // code point indices, end exclusive
    };
    // Every non-overlapping match in text, left to right (empty matches are skipped).
    std::vector<Span> find_all(std::u32string_view text) const;

    // What a compiled program is made of (public for the compiler in regex.cpp).
    enum class Op : uint8_t { Class, Split, Jump, Look, Run, Assert, Match };
    struct Inst {
        Op op;
        bool flag = false;  // Look: negated
        uint32_t a = 0;     // Class/Run: class index; Split: first choice; Jump: target; Look: program; Assert: kind
        uint32_t b = 0;     // Split: second choice; Run: min count
        uint32_t c = 0;     // Split: memo index; Run: max count
    };
    struct ClassItem {
        enum Kind : uint8_t { Range, Categories, Space, Word } kind;
        bool negated;
        uint32_t lo, hi;  // Range: code points; Categories: bit mask of GeneralCategory in lo
    };
    struct CharClass {
        std::vector<ClassItem> items;
        bool negated = false;
        bool icase = false;
    };
    struct Program {
        std::vector<Inst> code;
        uint32_t n_splits = 0;
    };

private:
    std::vector<CharClass> classes_;
    std::vector<Program> programs_;  // [0] is the pattern, the rest are lookaheads
    friend class RegexCompiler;
    friend class RegexRunner;
};

}  // namespace lmx
