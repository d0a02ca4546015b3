#include "tokenizer/pretokenize.hpp"

#include <initializer_list>

#include "base/error.hpp"

namespace lmx {

using unicode::Char;

std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
    struct Entry {
        std::initializer_list<std::string_view> names;
        PreTokenizer pre;
    };
    // The name groups of llama.cpp's llama_vocab::load (llama-vocab.cpp).
    static const Entry entries[] = {
        {{"", "default"}, PreTokenizer::Default},
        {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "jina-v1-en",
          "jina-v2-code", "roberta-bpe", "a.x-4.0", "mellum", "modern-bert", "exaone4", "mpt", "olmo", "jais",
          "trillion", "granite-docling"},
         PreTokenizer::Gpt2},
        {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
         PreTokenizer::StarCoder},
        {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
          "dbrx", "smaug-bpe", "glm4", "chatglm-bpe"},
         PreTokenizer::Llama3},
        {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"},
         PreTokenizer::Qwen2},
        {{"deepseek-coder"}, PreTokenizer::DeepSeekCoder},
    };
    for (const Entry& e : entries)
        for (std::string_view n : e.names)
            if (n == name) return e.pre;
    return std::nullopt;
}

namespace {

// One piece [b, e) of the text being split; positions at or past e read as "no
// character", which is how the regexes see the end of their input.
struct Piece {
    const std::vector<Char>& c;
    size_t b, e;

    bool in(size_t p) const { return p < e; }
    uint32_t cp(size_t p) const { return p < e ? c[p].cp : 0xFFFFFFFFu; }
    bool letter(size_t p) const { return p < e && c[p].letter(); }
    bool number(size_t p) const { return p < e && c[p].number(); }
    bool space(size_t p) const { return p < e && c[p].space; }
    // [^\s\p{L}\p{N}]
    bool other(size_t p) const { return p < e && !c[p].space && !c[p].letter() && !c[p].number(); }
};

uint32_t ascii_lower(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

// 's|'t|'re|'ve|'m|'ll|'d (optionally ASCII case-insensitive): the end of the match, or p.
size_t match_contraction(const Piece& s, size_t p, bool any_case) {
    if (s.cp(p) != '\'' || !s.in(p + 1)) return p;
    const auto fold = [&](uint32_t cp) { return any_case ? ascii_lower(cp) : cp; };
    const uint32_t a = fold(s.cp(p + 1));
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return p + 2;
    if (!s.in(p + 2)) return p;
    const uint32_t b = fold(s.cp(p + 2));
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return p + 3;
    return p;
}

// The end of a whitespace run starting at p, ending one early when a non-space follows:
// \s+(?!\S)|\s+ (the run left behind becomes the leading space of the next word).
size_t match_spaces(const Piece& s, size_t p) {
    size_t n = 0;
    while (s.space(p + n)) ++n;
    LMX_ASSERT(n > 0);  // every other character class was tried before
    return n > 1 && s.in(p + n) ? p + n - 1 : p + n;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (llama.cpp's unicode_regex_split_custom_gpt2).
void split_gpt2(const Piece& s, std::vector<size_t>& ends) {
    for (size_t p = s.b; p < s.e;) {
        size_t q = match_contraction(s, p, false);
        if (q == p) {
            const size_t w = p + (s.cp(p) == ' ');  // where the word proper starts
            if (s.letter(w)) {
                for (q = w; s.letter(q); ++q) {}
            } else if (s.number(w)) {
                for (q = w; s.number(q); ++q) {}
            } else if (s.other(w)) {
                for (q = w; s.other(q); ++q) {}
            } else {
                q = match_spaces(s, p);
            }
        }
        ends.push_back(q);
        p = q;
    }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// with N = max_digits: llama3 (N = 3, llama.cpp's unicode_regex_split_custom_llama3) and
// qwen2 (N = 1, which llama.cpp runs through std::regex; the leftmost-alternative
// semantics of that regex are what this matcher reproduces).
void split_llama3(const Piece& s, size_t max_digits, std::vector<size_t>& ends) {
    const auto newline = [&](size_t p) { return s.cp(p) == '\r' || s.cp(p) == '\n'; };
    for (size_t p = s.b; p < s.e;) {
        size_t q = match_contraction(s, p, true);
        if (q != p) {
            ends.push_back(q);
        } else if (!newline(p) && !s.number(p) && (s.letter(p) || s.letter(p + 1))) {
            for (q = p + 1; s.letter(q); ++q) {}
            ends.push_back(q);
        } else if (s.number(p)) {
            for (q = p; s.number(q);) {
                ++q;
                if (q - p == max_digits) break;
            }
            ends.push_back(q);
        } else if (const size_t w = p + (s.cp(p) == ' '); !s.space(w) && !s.letter(w) && !s.number(w)) {
            for (q = w; s.other(q); ++q) {}
            while (newline(q)) ++q;
            ends.push_back(q);
        } else {
            size_t n = 0, after_newline = 0;
            for (; s.space(p + n); ++n)
                if (newline(p + n)) after_newline = p + n + 1;
            q = after_newline ? after_newline : match_spaces(s, p);
            ends.push_back(q);
        }
        p = q;
    }
}

// A regex without alternatives that can reach back: scanning left to right, `match(p)`
// returns the end of the match starting at p (p when none). Matches and the gaps
// between them all become words, as in llama.cpp's unicode_regex_split_stl.
template <class Match>
void split_matches(const Piece& s, std::vector<size_t>& ends, Match match) {
    size_t prev = s.b;
    for (size_t p = s.b; p < s.e;) {
        const size_t q = match(p);
        if (q == p) {
            ++p;
            continue;
        }
        if (p > prev) ends.push_back(p);
        ends.push_back(q);
        prev = p = q;
    }
    if (s.e > prev) ends.push_back(s.e);
}

// Matchers for the simple regexes, each for a class given as a predicate on a position.
template <class Pred>
auto one_of(Pred pred) {
    return [pred](size_t p) { return pred(p) ? p + 1 : p; };
}
template <class Pred>
auto run_of(Pred pred) {
    return [pred](size_t p) {
        while (pred(p)) ++p;
        return p;
    };
}
// \s?X+
template <class Pred>
auto space_then_run_of(const Piece& s, Pred pred) {
    return [&s, pred](size_t p) {
        size_t q = s.space(p) && pred(p + 1) ? p + 1 : p;
        if (!pred(q)) return p;
        while (pred(q)) ++q;
        return q;
    };
}

bool is_ascii_digit(uint32_t cp) { return cp >= '0' && cp <= '9'; }

using Step = void (*)(const Piece&, std::vector<size_t>&);

// Each pre-tokenizer's regex list (llm_tokenizer_bpe's regex_exprs), in order.
std::vector<Step> steps_for(PreTokenizer pre) {
    const Step gpt2 = split_gpt2;
    const Step digits = [](const Piece& s, std::vector<size_t>& ends) {  // \p{N}
        split_matches(s, ends, one_of([&s](size_t p) { return s.number(p); }));
    };
    switch (pre) {
        case PreTokenizer::Gpt2: return {gpt2};
        case PreTokenizer::StarCoder: return {digits, gpt2};
        case PreTokenizer::Llama3:
            return {[](const Piece& s, std::vector<size_t>& ends) { split_llama3(s, 3, ends); }};
        case PreTokenizer::Qwen2:
            return {[](const Piece& s, std::vector<size_t>& ends) { split_llama3(s, 1, ends); }};
        case PreTokenizer::Default:
            return {
                [](const Piece& s, std::vector<size_t>& ends) {  // [\p{P}\$\+<=>\^~\|]+
                    split_matches(s, ends, run_of([&s](size_t p) {
                        if (!s.in(p)) return false;
                        const uint32_t cp = s.cp(p);
                        return s.c[p].punctuation() || cp == '$' || cp == '+' || cp == '<' || cp == '=' ||
                               cp == '>' || cp == '^' || cp == '~' || cp == '|';
                    }));
                },
                gpt2,
                [](const Piece& s, std::vector<size_t>& ends) {  // \p{N}+
                    split_matches(s, ends, run_of([&s](size_t p) { return s.number(p); }));
                },
                [](const Piece& s, std::vector<size_t>& ends) {  // [0-9][0-9][0-9]
                    split_matches(s, ends, [&s](size_t p) {
                        return is_ascii_digit(s.cp(p)) && is_ascii_digit(s.cp(p + 1)) && is_ascii_digit(s.cp(p + 2))
                                   ? p + 3
                                   : p;
                    });
                },
            };
        case PreTokenizer::DeepSeekCoder:
            return {
                [](const Piece& s, std::vector<size_t>& ends) {  // [\r\n]
                    split_matches(s, ends, one_of([&s](size_t p) { return s.cp(p) == '\r' || s.cp(p) == '\n'; }));
                },
                [](const Piece& s, std::vector<size_t>& ends) {  // \s?\p{L}+
                    split_matches(s, ends, space_then_run_of(s, [&s](size_t p) { return s.letter(p); }));
                },
                [](const Piece& s, std::vector<size_t>& ends) {  // \s?\p{P}+
                    split_matches(s, ends,
                                  space_then_run_of(s, [&s](size_t p) { return s.in(p) && s.c[p].punctuation(); }));
                },
                [](const Piece& s, std::vector<size_t>& ends) {  // [一-龥ࠀ-一가-퟿]+
                    // llama.cpp matches this one on code points with non-ASCII spaces
                    // blanked out, so the spaces inside U+0800..U+4E00 do not count.
                    split_matches(s, ends, run_of([&s](size_t p) {
                        if (!s.in(p) || s.space(p)) return false;
                        const uint32_t cp = s.cp(p);
                        return (cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x0800 && cp <= 0x4E00) ||
                               (cp >= 0xAC00 && cp <= 0xD7FF);
                    }));
                },
                digits,
            };
    }
    LMX_ASSERT(false);
    return {};
}

}  // namespace

std::vector<size_t> pre_tokenize(PreTokenizer pre, const std::vector<Char>& chars) {
    std::vector<size_t> ends;
    if (!chars.empty()) ends.push_back(chars.size());
    std::vector<size_t> next;
    for (Step step : steps_for(pre)) {
        next.clear();
        size_t b = 0;
        for (size_t e : ends) {
            step(Piece{chars, b, e}, next);
            b = e;
        }
        ends.swap(next);
    }
    return ends;
}

}  // namespace lmx
