#include "tokenizer/hf_normalizer.hpp"

#include <nlohmann/json.hpp>
#include <vector>

#include "base/error.hpp"
#include "tokenizer/hf_pattern.hpp"
#include "tokenizer/hf_text.hpp"

namespace lmx::hf {

namespace {

using nlohmann::json;
using unicode::GeneralCategory;

class UnicodeForm : public Normalizer {
public:
    explicit UnicodeForm(unicode::NormalForm form) : form_(form) {}
    void apply(std::u32string& t) const override { t = unicode::normalize(form_, t); }

private:
    unicode::NormalForm form_;
};

class Lowercase : public Normalizer {
public:
    void apply(std::u32string& t) const override {
        std::u32string out;
        out.reserve(t.size());
        for (char32_t c : t) unicode::append_lowercase(out, c);
        t.swap(out);
    }
};

// Removes combining marks (HF checks unicode_normalization's is_combining_mark: M*).
class StripAccents : public Normalizer {
public:
    void apply(std::u32string& t) const override {
        std::u32string out;
        for (char32_t c : t)
            if (unicode::category(c) != unicode::UnicodeCategory::Mark) out += c;
        t.swap(out);
    }
};

class Replace : public Normalizer {
public:
    Replace(Pattern p, std::u32string content) : pattern_(std::move(p)), content_(std::move(content)) {}
    void apply(std::u32string& t) const override { t = replace(pattern_, t, content_); }

private:
    Pattern pattern_;
    std::u32string content_;
};

class Prepend : public Normalizer {
public:
    explicit Prepend(std::u32string s) : prefix_(std::move(s)) {}
    void apply(std::u32string& t) const override {
        if (!t.empty()) t.insert(0, prefix_);
    }

private:
    std::u32string prefix_;
};

class Strip : public Normalizer {
public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    void apply(std::u32string& t) const override {
        size_t b = 0, e = t.size();
        if (left_)
            while (b < e && is_whitespace(t[b])) ++b;
        if (right_)
            while (e > b && is_whitespace(t[e - 1])) --e;
        t = t.substr(b, e - b);
    }

private:
    bool left_, right_;
};

class Bert : public Normalizer {
public:
    Bert(bool clean, bool chinese, bool strip, bool lower) : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
    void apply(std::u32string& t) const override {
        std::u32string out;
        out.reserve(t.size());
        for (char32_t c : t) {
            if (clean_) {
                if (c == 0 || c == 0xFFFD || is_control(c)) continue;
                if (c == '\t' || c == '\n' || c == '\r' || is_whitespace(c)) c = ' ';
            }
            if (chinese_ && is_chinese_char(c)) {
                out += U' ';
                out += c;
                out += U' ';
            } else {
                out += c;
            }
        }
        if (strip_) {
            out = unicode::normalize(unicode::NormalForm::NFD, out);
            std::u32string kept;
            for (char32_t c : out)
                if (unicode::general_category(c) != GeneralCategory::Mn) kept += c;
            out.swap(kept);
        }
        if (lower_) Lowercase().apply(out);
        t.swap(out);
    }

private:
    // BERT's control characters: Cc, Cf, Co except tab, newline and carriage return
    // (HF's unicode_categories is_other(); unassigned code points are kept).
    static bool is_control(char32_t c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        const GeneralCategory g = unicode::general_category(c);
        return g == GeneralCategory::Cc || g == GeneralCategory::Cf || g == GeneralCategory::Co;
    }
    bool clean_, chinese_, strip_, lower_;
};

// Each byte of the UTF-8 text as its GPT-2 byte-level character.
class ByteLevel : public Normalizer {
public:
    void apply(std::u32string& t) const override {
        std::u32string out;
        for (char byte : unicode::to_utf8(t))
            out += unicode::to_code_points(unicode::byte_to_symbol(static_cast<uint8_t>(byte)));
        t.swap(out);
    }
};

class Sequence : public Normalizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
    void apply(std::u32string& t) const override {
        for (const auto& s : steps_) s->apply(t);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

std::u32string u32(const json& j) { return unicode::to_code_points(j.get<std::string>()); }

}  // namespace

std::unique_ptr<Normalizer> bert_normalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents,
                                            bool lowercase) {
    return std::make_unique<Bert>(clean_text, handle_chinese_chars, strip_accents, lowercase);
}

std::unique_ptr<Normalizer> normalizer_from_json(const json& j) {
    if (j.is_null()) return nullptr;
    const std::string type = j.at("type").get<std::string>();
    if (type == "NFC") return std::make_unique<UnicodeForm>(unicode::NormalForm::NFC);
    if (type == "NFD") return std::make_unique<UnicodeForm>(unicode::NormalForm::NFD);
    if (type == "NFKC") return std::make_unique<UnicodeForm>(unicode::NormalForm::NFKC);
    if (type == "NFKD") return std::make_unique<UnicodeForm>(unicode::NormalForm::NFKD);
    if (type == "Lowercase") return std::make_unique<Lowercase>();
    if (type == "StripAccents") return std::make_unique<StripAccents>();
    if (type == "Replace") return std::make_unique<Replace>(Pattern::from_json(j.at("pattern")), u32(j.at("content")));
    if (type == "Prepend") return std::make_unique<Prepend>(u32(j.at("prepend")));
    if (type == "Strip") return std::make_unique<Strip>(j.value("strip_left", true), j.value("strip_right", true));
    if (type == "ByteLevel") return std::make_unique<ByteLevel>();
    if (type == "BertNormalizer") {
        const bool lower = j.value("lowercase", true);
        const json& sa = j.contains("strip_accents") ? j.at("strip_accents") : json();
        return bert_normalizer(j.value("clean_text", true), j.value("handle_chinese_chars", true),
                               sa.is_null() ? lower : sa.get<bool>(), lower);
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (const json& s : j.at("normalizers"))
            if (auto n = normalizer_from_json(s)) steps.push_back(std::move(n));
        return std::make_unique<Sequence>(std::move(steps));
    }
    fail("normalizer '", type,
         "' is not supported; lmx knows NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Replace, Prepend, Strip, "
         "BertNormalizer, ByteLevel and Sequence");
}

}  // namespace lmx::hf
