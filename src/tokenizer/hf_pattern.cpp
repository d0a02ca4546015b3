#include "tokenizer/hf_pattern.hpp"

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx::hf {

Pattern Pattern::from_json(const nlohmann::json& j) {
    Pattern p;
    if (j.is_object() && j.contains("String")) {
        p.literal_ = unicode::to_code_points(j.at("String").get<std::string>());
    } else if (j.is_object() && j.contains("Regex")) {
        p.regex_ = std::make_shared<Regex>(j.at("Regex").get<std::string>());
    } else {
        fail("pattern ", j.dump(), " is neither {\"String\": ...} nor {\"Regex\": ...}");
    }
    return p;
}

Pattern Pattern::literal(std::u32string s) {
    Pattern p;
    p.literal_ = std::move(s);
    return p;
}

std::vector<Regex::Span> Pattern::find_all(std::u32string_view text) const {
    if (regex_) return regex_->find_all(text);
    std::vector<Regex::Span> out;
    if (literal_.empty()) return out;
    for (size_t at = 0, hit; (hit = text.find(literal_, at)) != std::u32string_view::npos; at = hit + literal_.size())
        out.push_back({hit, hit + literal_.size()});
    return out;
}

std::u32string replace(const Pattern& pattern, std::u32string_view text, std::u32string_view content) {
    std::u32string out;
    size_t at = 0;
    for (const Regex::Span& m : pattern.find_all(text)) {
        out.append(text.substr(at, m.begin - at));
        out.append(content);
        at = m.end;
    }
    out.append(text.substr(at));
    return out;
}

}  // namespace lmx::hf
