#include "tokenizer/hf_pre_tokenizer.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tokenizer/hf_pattern.hpp"
#include "tokenizer/hf_text.hpp"

namespace lmx::hf {

namespace {

using nlohmann::json;

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behavior_from_json(const json& j) {
    const std::string b = j.get<std::string>();
    if (b == "Removed") return Behavior::Removed;
    if (b == "Isolated") return Behavior::Isolated;
    if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (b == "MergedWithNext") return Behavior::MergedWithNext;
    if (b == "Contiguous") return Behavior::Contiguous;
    fail("split behavior '", b, "' is unknown; HF defines Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

struct Part {
    size_t begin, end;
    bool flag;  // first a match, then "remove"
};

// NormalizedString::split: the matches and the gaps between them cover the text; the
// behaviour decides what becomes of the matches (the delimiters).
void split_piece(const Piece& p, const std::vector<Regex::Span>& matches, Behavior behavior, bool invert,
                 std::vector<Piece>& out) {
    std::vector<Part> parts;
    size_t prev = 0;
    for (const Regex::Span& m : matches) {
        if (m.begin > prev) parts.push_back({prev, m.begin, false});
        parts.push_back({m.begin, m.end, true});
        prev = m.end;
    }
    if (prev < p.text.size()) parts.push_back({prev, p.text.size(), false});
    if (invert)
        for (Part& x : parts) x.flag = !x.flag;

    std::vector<Part> result;
    bool previous_match = false;
    switch (behavior) {
        case Behavior::Isolated:
            for (Part x : parts) result.push_back({x.begin, x.end, false});
            break;
        case Behavior::Removed: break;
        case Behavior::Contiguous:
            for (const Part& x : parts) {
                if (x.flag == previous_match && !result.empty())
                    result.back().end = x.end;
                else
                    result.push_back({x.begin, x.end, false});
                previous_match = x.flag;
            }
            break;
        case Behavior::MergedWithPrevious:
            for (const Part& x : parts) {
                if (x.flag && !previous_match && !result.empty())
                    result.back().end = x.end;
                else
                    result.push_back({x.begin, x.end, false});
                previous_match = x.flag;
            }
            break;
        case Behavior::MergedWithNext:
            for (size_t i = parts.size(); i-- > 0;) {
                const Part& x = parts[i];
                if (x.flag && !previous_match && !result.empty())
                    result.back().begin = x.begin;
                else
                    result.push_back({x.begin, x.end, false});
                previous_match = x.flag;
            }
            std::reverse(result.begin(), result.end());
            break;
    }
    for (const Part& x : behavior == Behavior::Removed ? parts : result)
        if (!x.flag && x.end > x.begin) out.push_back({p.text.substr(x.begin, x.end - x.begin), p.at_start && x.begin == 0});
}

template <class Pred>
std::vector<Regex::Span> char_matches(const std::u32string& t, Pred pred) {
    std::vector<Regex::Span> m;
    for (size_t i = 0; i < t.size(); ++i)
        if (pred(t[i])) m.push_back({i, i + 1});
    return m;
}

// A split by a function of the piece's text.
template <class Matcher>
void split_all(std::vector<Piece>& pieces, Behavior behavior, bool invert, Matcher matches) {
    std::vector<Piece> out;
    for (const Piece& p : pieces) split_piece(p, matches(p.text), behavior, invert, out);
    pieces.swap(out);
}

class Split : public PreTokenizer {
public:
    Split(Pattern p, Behavior b, bool invert) : pattern_(std::move(p)), behavior_(b), invert_(invert) {}
    void apply(std::vector<Piece>& pieces) const override {
        split_all(pieces, behavior_, invert_, [&](const std::u32string& t) { return pattern_.find_all(t); });
    }

private:
    Pattern pattern_;
    Behavior behavior_;
    bool invert_;
};

template <class Pred>
class CharSplit : public PreTokenizer {
public:
    CharSplit(Pred pred, Behavior b) : pred_(pred), behavior_(b) {}
    void apply(std::vector<Piece>& pieces) const override {
        split_all(pieces, behavior_, false, [&](const std::u32string& t) { return char_matches(t, pred_); });
    }

private:
    Pred pred_;
    Behavior behavior_;
};
template <class Pred>
std::unique_ptr<PreTokenizer> char_split(Pred pred, Behavior b) {
    return std::make_unique<CharSplit<Pred>>(pred, b);
}

constexpr const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

class ByteLevel : public PreTokenizer {
public:
    ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
        if (use_regex) regex_ = Pattern::from_json(json{{"Regex", kGpt2Pattern}});
        use_regex_ = use_regex;
    }
    void apply(std::vector<Piece>& pieces) const override {
        std::vector<Piece> split;
        for (Piece p : pieces) {
            if (add_prefix_space_ && (p.text.empty() || p.text[0] != U' ')) p.text.insert(0, 1, U' ');
            if (use_regex_)
                split_piece(p, regex_.find_all(p.text), Behavior::Isolated, false, split);
            else
                split.push_back(std::move(p));
        }
        for (Piece& p : split) {
            std::u32string mapped;
            for (char byte : unicode::to_utf8(p.text))
                mapped += unicode::to_code_points(unicode::byte_to_symbol(static_cast<uint8_t>(byte)));
            p.text.swap(mapped);
        }
        pieces.swap(split);
    }

private:
    bool add_prefix_space_, use_regex_ = false;
    Pattern regex_;
};

class Metaspace : public PreTokenizer {
public:
    enum class Prepend { Always, First, Never };
    Metaspace(char32_t replacement, Prepend prepend, bool split) : rep_(replacement), prepend_(prepend), split_(split) {}
    void apply(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (Piece p : pieces) {
            for (char32_t& c : p.text)
                if (c == U' ') c = rep_;
            const bool starts = !p.text.empty() && p.text[0] == rep_;
            if (!starts && (prepend_ == Prepend::Always || (prepend_ == Prepend::First && p.at_start)))
                p.text.insert(0, 1, rep_);
            if (split_)
                split_piece(p, char_matches(p.text, [&](char32_t c) { return c == rep_; }), Behavior::MergedWithNext,
                            false, out);
            else
                out.push_back(std::move(p));
        }
        pieces.swap(out);
    }

private:
    char32_t rep_;
    Prepend prepend_;
    bool split_;
};

class Sequence : public PreTokenizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
    void apply(std::vector<Piece>& pieces) const override {
        for (const auto& s : steps_) s->apply(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class Bert : public PreTokenizer {
public:
    void apply(std::vector<Piece>& pieces) const override {
        split_all(pieces, Behavior::Removed, false,
                  [](const std::u32string& t) { return char_matches(t, [](char32_t c) { return is_whitespace(c); }); });
        split_all(pieces, Behavior::Isolated, false, [](const std::u32string& t) {
            return char_matches(t, [](char32_t c) { return is_bert_punctuation(c); });
        });
    }
};

char32_t single_char(const json& j, const char* what) {
    const std::u32string s = unicode::to_code_points(j.get<std::string>());
    if (s.size() != 1) fail(what, " must be one character, not '", j.get<std::string>(), "'");
    return s[0];
}

}  // namespace

std::unique_ptr<PreTokenizer> bert_pre_tokenizer() { return std::make_unique<Bert>(); }

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const json& j) {
    if (j.is_null()) return nullptr;
    const std::string type = j.at("type").get<std::string>();
    if (type == "ByteLevel") return std::make_unique<ByteLevel>(j.value("add_prefix_space", true), j.value("use_regex", true));
    if (type == "Split")
        return std::make_unique<Split>(Pattern::from_json(j.at("pattern")), behavior_from_json(j.at("behavior")),
                                       j.value("invert", false));
    if (type == "Whitespace")
        return std::make_unique<Split>(Pattern::from_json(json{{"Regex", "\\w+|[^\\w\\s]+"}}), Behavior::Removed, true);
    if (type == "WhitespaceSplit") return char_split([](char32_t c) { return is_whitespace(c); }, Behavior::Removed);
    if (type == "BertPreTokenizer") return bert_pre_tokenizer();
    if (type == "Punctuation")
        return char_split([](char32_t c) { return is_bert_punctuation(c); },
                          j.contains("behavior") ? behavior_from_json(j.at("behavior")) : Behavior::Isolated);
    if (type == "Digits") {
        const auto numeric = [](char32_t c) { return is_numeric(c); };
        return char_split(numeric, j.value("individual_digits", false) ? Behavior::Isolated : Behavior::Contiguous);
    }
    if (type == "CharDelimiterSplit") {
        const char32_t d = single_char(j.at("delimiter"), "CharDelimiterSplit's delimiter");
        return char_split([d](char32_t c) { return c == d; }, Behavior::Removed);
    }
    if (type == "Metaspace") {
        Metaspace::Prepend prepend = Metaspace::Prepend::Always;
        if (j.contains("prepend_scheme")) {
            const std::string s = j.at("prepend_scheme").get<std::string>();
            prepend = s == "first" ? Metaspace::Prepend::First : s == "never" ? Metaspace::Prepend::Never
                                                                              : Metaspace::Prepend::Always;
        } else if (!j.value("add_prefix_space", true)) {
            prepend = Metaspace::Prepend::Never;
        }
        return std::make_unique<Metaspace>(single_char(j.at("replacement"), "Metaspace's replacement"), prepend,
                                           j.value("split", true));
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const json& s : j.at("pretokenizers"))
            if (auto p = pre_tokenizer_from_json(s)) steps.push_back(std::move(p));
        return std::make_unique<Sequence>(std::move(steps));
    }
    fail("pre-tokenizer '", type,
         "' is not supported; lmx knows ByteLevel, Split, Whitespace, WhitespaceSplit, Metaspace, Digits, "
         "Punctuation, BertPreTokenizer, CharDelimiterSplit and Sequence");
}

}  // namespace lmx::hf
