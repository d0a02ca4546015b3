#include "tokenizer/hf_decoder.hpp"

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tokenizer/hf_pattern.hpp"
#include "tokenizer/hf_text.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx::hf {

namespace {

using nlohmann::json;

// Each token's characters as the bytes they stand for; a token with a character
// outside the byte alphabet is kept as it is.
class ByteLevel : public Decoder {
public:
    void apply(std::vector<std::string>& tokens) const override {
        std::string all;
        for (const std::string& t : tokens) {
            std::string bytes;
            bool ok = true;
            for (const unicode::Char& c : unicode::decode_chars(t)) {
                const int b = unicode::symbol_to_byte(c.cp);
                if (b < 0) {
                    ok = false;
                    break;
                }
                bytes += static_cast<char>(b);
            }
            all += ok ? bytes : t;
        }
        tokens.assign(1, all);
    }
};

class Metaspace : public Decoder {
public:
    Metaspace(std::string replacement, bool strip_first) : rep_(std::move(replacement)), strip_first_(strip_first) {}
    void apply(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = replace_all_bytes(tokens[i], rep_, i == 0 && strip_first_ ? "" : " ");
    }

private:
    std::string rep_;
    bool strip_first_;
};

class WordPiece : public Decoder {
public:
    WordPiece(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
    void apply(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string& t = tokens[i];
            if (i > 0) {
                if (t.compare(0, prefix_.size(), prefix_) == 0)
                    t.erase(0, prefix_.size());
                else
                    t = std::string(1, ' ').append(t);
            }
            if (cleanup_) t = cleanup(t);
        }
    }
    // HF's cleanup of tokenization spaces.
    static std::string cleanup(std::string s) {
        static const char* const kPairs[][2] = {{" .", "."},   {" ?", "?"},     {" !", "!"},           {" ,", ","},
                                                {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},         {" do not", " don't"},
                                                {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& p : kPairs) s = replace_all_bytes(s, p[0], p[1]);
        return s;
    }

private:
    std::string prefix_;
    bool cleanup_;
};

// <0xAB> tokens become their bytes (runs of them joined).
class ByteFallback : public Decoder {
public:
    void apply(std::vector<std::string>& tokens) const override {
        std::vector<std::string> out;
        std::string bytes;
        bool in_run = false;
        for (std::string& t : tokens) {
            int b = -1;
            if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') b = hex_byte(t[3], t[4]);
            if (b >= 0) {
                bytes += static_cast<char>(b);
                in_run = true;
                continue;
            }
            if (in_run) out.push_back(std::move(bytes)), bytes.clear(), in_run = false;
            out.push_back(std::move(t));
        }
        if (in_run) out.push_back(std::move(bytes));
        tokens.swap(out);
    }

private:
    static int hex_byte(char hi, char lo) {
        const auto v = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                      : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
        return v(hi) < 0 || v(lo) < 0 ? -1 : v(hi) * 16 + v(lo);
    }
};

class Fuse : public Decoder {
public:
    void apply(std::vector<std::string>& tokens) const override {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, all);
    }
};

// Removes up to `start` leading and `stop` trailing copies of a character from each token.
class Strip : public Decoder {
public:
    Strip(std::string content, size_t start, size_t stop) : c_(std::move(content)), start_(start), stop_(stop) {}
    void apply(std::vector<std::string>& tokens) const override {
        if (c_.empty()) return;
        for (std::string& t : tokens) {
            for (size_t i = 0; i < start_ && t.compare(0, c_.size(), c_) == 0; ++i) t.erase(0, c_.size());
            for (size_t i = 0; i < stop_ && t.size() >= c_.size() && t.compare(t.size() - c_.size(), c_.size(), c_) == 0; ++i)
                t.erase(t.size() - c_.size());
        }
    }

private:
    std::string c_;
    size_t start_, stop_;
};

class Replace : public Decoder {
public:
    Replace(Pattern p, std::string content) : pattern_(std::move(p)), content_(std::move(content)) {}
    void apply(std::vector<std::string>& tokens) const override {
        for (std::string& t : tokens) {
            if (const std::u32string* lit = pattern_.as_literal())
                t = replace_all_bytes(t, unicode::to_utf8(*lit), content_);  // bytes stay bytes
            else
                t = unicode::to_utf8(replace(pattern_, unicode::to_code_points(t), unicode::to_code_points(content_)));
        }
    }

private:
    Pattern pattern_;
    std::string content_;
};

// BPEDecoder: the end-of-word suffix becomes a space (none after the last token).
class BpeSuffix : public Decoder {
public:
    explicit BpeSuffix(std::string suffix) : suffix_(std::move(suffix)) {}
    void apply(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = replace_all_bytes(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    }

private:
    std::string suffix_;
};

class Sequence : public Decoder {
public:
    explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
    void apply(std::vector<std::string>& tokens) const override {
        for (const auto& s : steps_) s->apply(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> decoder_from_json(const json& j) {
    if (j.is_null()) return nullptr;
    const std::string type = j.at("type").get<std::string>();
    if (type == "ByteLevel") return std::make_unique<ByteLevel>();
    if (type == "Metaspace") {
        bool strip_first = j.value("add_prefix_space", true);
        if (j.contains("prepend_scheme")) strip_first = j.at("prepend_scheme").get<std::string>() != "never";
        return std::make_unique<Metaspace>(j.at("replacement").get<std::string>(), strip_first);
    }
    if (type == "WordPiece")
        return std::make_unique<WordPiece>(j.value("prefix", std::string("##")), j.value("cleanup", true));
    if (type == "ByteFallback") return std::make_unique<ByteFallback>();
    if (type == "Fuse") return std::make_unique<Fuse>();
    if (type == "Strip")
        return std::make_unique<Strip>(j.at("content").get<std::string>(), j.value("start", size_t{0}), j.value("stop", size_t{0}));
    if (type == "Replace")
        return std::make_unique<Replace>(Pattern::from_json(j.at("pattern")), j.at("content").get<std::string>());
    if (type == "BPEDecoder") return std::make_unique<BpeSuffix>(j.value("suffix", std::string("</w>")));
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Decoder>> steps;
        for (const json& s : j.at("decoders"))
            if (auto d = decoder_from_json(s)) steps.push_back(std::move(d));
        return std::make_unique<Sequence>(std::move(steps));
    }
    fail("decoder '", type,
         "' is not supported; lmx knows ByteLevel, Metaspace, WordPiece, ByteFallback, Fuse, Strip, Replace, "
         "BPEDecoder and Sequence");
}

}  // namespace lmx::hf
