#pragma once
// The `pattern` of HF Split / Replace components: {"String": s} or {"Regex": r}.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/regex.hpp"

namespace lmx::hf {

class Pattern {
public:
    static Pattern from_json(const nlohmann::json& j);
    static Pattern literal(std::u32string s);
    // Non-overlapping matches, left to right, as code point spans.
    std::vector<Regex::Span> find_all(std::u32string_view text) const;
    // Whether the pattern is a literal (Replace decoders apply those to bytes).
    const std::u32string* as_literal() const { return regex_ ? nullptr : &literal_; }

private:
    std::u32string literal_;
    std::shared_ptr<const Regex> regex_;
};

// Replaces every match of pattern in text by content.
std::u32string replace(const Pattern& pattern, std::u32string_view text, std::u32string_view content);

}  // namespace lmx::hf
