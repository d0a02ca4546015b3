// A tokenizer.json pipeline with HF `tokenizers` semantics: added tokens cut out of the
// raw text, normalizer, added tokens on the normalized text, pre-tokenizer, model, and
// with add_special the post-processor; decoding through the decoder chain.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tokenizer/engine.hpp"
#include "tokenizer/hf_added_tokens.hpp"
#include "tokenizer/hf_decoder.hpp"
#include "tokenizer/hf_model.hpp"
#include "tokenizer/hf_normalizer.hpp"
#include "tokenizer/hf_pre_tokenizer.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

namespace {

using nlohmann::json;

// TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence, for a
// single sequence: the ids to put before and after it.
struct PostProcessor {
    std::vector<int32_t> before, after;
};

void add_template(const json& j, PostProcessor& pp) {
    const std::string type = j.at("type").get<std::string>();
    if (type == "ByteLevel") return;  // only adjusts offsets
    if (type == "Sequence") {
        for (const json& p : j.at("processors")) add_template(p, pp);
        return;
    }
    if (type == "BertProcessing" || type == "RobertaProcessing") {
        pp.before.push_back(j.at("cls").at(1).get<int32_t>());
        pp.after.insert(pp.after.begin(), j.at("sep").at(1).get<int32_t>());
        return;
    }
    if (type != "TemplateProcessing")
        fail("post-processor '", type,
             "' is not supported; lmx knows TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence");
    std::vector<int32_t> before, after;
    bool seen_sequence = false;
    for (const json& item : j.at("single")) {
        if (item.contains("Sequence")) {
            seen_sequence = true;
            continue;
        }
        const std::string name = item.at("SpecialToken").at("id").get<std::string>();
        const json& ids = j.at("special_tokens").at(name).at("ids");
        for (const json& id : ids) (seen_sequence ? after : before).push_back(id.get<int32_t>());
    }
    pp.before.insert(pp.before.end(), before.begin(), before.end());
    pp.after.insert(pp.after.begin(), after.begin(), after.end());
}

// tokenizer_config.json names tokens as a string or as {"content": ...}.
std::string token_name(const json& cfg, const char* key) {
    if (!cfg.contains(key)) return {};
    const json& v = cfg.at(key);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v.at("content").is_string()) return v.at("content").get<std::string>();
    return {};
}

class HfTokenizer : public TokenizerEngine {
public:
    HfTokenizer(const json& j, const json& cfg, Vocab& v, HfConfig& config) : v_(v) {
        model_ = hf::model_from_json(j.at("model"));
        normalizer_ = hf::normalizer_from_json(j.value("normalizer", json()));
        pre_ = hf::pre_tokenizer_from_json(j.value("pre_tokenizer", json()));
        decoder_ = hf::decoder_from_json(j.value("decoder", json()));
        if (j.contains("post_processor") && !j.at("post_processor").is_null()) add_template(j.at("post_processor"), post_);

        // The vocabulary: the model's tokens, then the added ones (which may reuse ids).
        int32_t n = 0;
        for (const auto& [text, id] : model_->vocab()) n = std::max(n, id + 1);
        std::vector<hf::AddedToken> added;
        if (j.contains("added_tokens"))
            for (const json& a : j.at("added_tokens")) {
                added.push_back({unicode::to_code_points(a.at("content").get<std::string>()), a.at("id").get<int32_t>(),
                                 a.value("single_word", false), a.value("lstrip", false), a.value("rstrip", false),
                                 a.value("normalized", true), a.value("special", false)});
                if (added.back().id < 0) fail("added token id ", added.back().id, " is negative");
                n = std::max(n, added.back().id + 1);
            }
        if (n > (1 << 24)) fail("a vocabulary of ", n, " tokens is too large; the file is damaged");
        v.text.assign(static_cast<size_t>(n), std::string());
        v.attr.assign(static_cast<size_t>(n), kAttrUnused);
        special_.assign(static_cast<size_t>(n), false);
        for (const auto& [text, id] : model_->vocab()) {
            if (id < 0) fail("token '", text, "' has a negative id");
            v.text[static_cast<size_t>(id)] = text;
            v.attr[static_cast<size_t>(id)] = text.size() == 6 && text.compare(0, 3, "<0x") == 0 ? kAttrByte : kAttrNormal;
        }
        std::vector<hf::AddedToken> raw_pass, normalized_pass;
        for (hf::AddedToken& a : added) {
            const auto i = static_cast<size_t>(a.id);
            v.text[i] = unicode::to_utf8(a.content);
            v.attr[i] = a.special ? kAttrControl : kAttrUserDefined;
            special_[i] = a.special;
            if (a.normalized) {
                if (normalizer_) normalizer_->apply(a.content);
                normalized_pass.push_back(a);
            } else {
                raw_pass.push_back(a);
            }
        }
        raw_ = std::make_unique<hf::AddedTokenMatcher>(std::move(raw_pass));
        normalized_ = std::make_unique<hf::AddedTokenMatcher>(std::move(normalized_pass));
        for (int32_t id = 0; id < n; ++id)
            if (!v.text[static_cast<size_t>(id)].empty()) v.ids.emplace(v.text[static_cast<size_t>(id)], id);

        // Special tokens from tokenizer_config.json.
        v.bos = v.find(token_name(cfg, "bos_token"));
        v.eos = v.find(token_name(cfg, "eos_token"));
        std::set<int32_t> eog;
        if (v.eos >= 0) eog.insert(v.eos);
        finish_vocab(v, std::move(eog));
        std::vector<int32_t> probe;
        encode("a", true, false, probe);
        v.add_bos = v.bos >= 0 && !probe.empty() && probe.front() == v.bos;
        v.add_eos = v.eos >= 0 && !probe.empty() && probe.back() == v.eos;
        if (cfg.contains("chat_template") && cfg.at("chat_template").is_string())
            config.chat_template = cfg.at("chat_template").get<std::string>();
    }

    void encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const override {
        if (add_special) out.insert(out.end(), post_.before.begin(), post_.before.end());
        std::vector<hf::Segment> segs;
        if (!text.empty()) segs.push_back({unicode::to_code_points(text), -1, true});
        raw_->split(segs, parse_special);
        if (normalizer_)
            for (hf::Segment& s : segs)
                if (s.token < 0) normalizer_->apply(s.text);
        normalized_->split(segs, parse_special);
        std::vector<hf::Piece> pieces;
        for (hf::Segment& s : segs) {
            if (s.token >= 0) {
                out.push_back(s.token);
                continue;
            }
            pieces.clear();
            if (!s.text.empty()) pieces.push_back({std::move(s.text), s.at_start});
            if (pre_) pre_->apply(pieces);
            for (const hf::Piece& p : pieces) model_->tokenize(p.text, out);
        }
        if (add_special) out.insert(out.end(), post_.after.begin(), post_.after.end());
    }

    std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
        std::vector<std::string> tokens;
        for (int32_t id : ids) {
            const auto i = static_cast<size_t>(id);
            if (v_.text[i].empty() || (skip_special && special_[i])) continue;
            tokens.push_back(v_.text[i]);
        }
        std::string out;
        if (decoder_) {
            decoder_->apply(tokens);
            for (const std::string& t : tokens) out += t;
        } else {
            for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
        }
        return out;
    }

    std::string piece(int32_t id) const override { return special_[static_cast<size_t>(id)] ? std::string() : decode({id}, false); }

private:
    Vocab& v_;
    std::unique_ptr<hf::Model> model_;
    std::unique_ptr<hf::Normalizer> normalizer_;
    std::unique_ptr<hf::PreTokenizer> pre_;
    std::unique_ptr<hf::Decoder> decoder_;
    PostProcessor post_;
    std::unique_ptr<hf::AddedTokenMatcher> raw_, normalized_;
    std::vector<bool> special_;
};

}  // namespace

std::unique_ptr<TokenizerEngine> hf_engine(std::string_view tokenizer_json, std::string_view config_json, Vocab& vocab,
                                           HfConfig& config) {
    json j, cfg = json::object();
    try {
        j = json::parse(tokenizer_json);
        if (!config_json.empty()) cfg = json::parse(config_json);
        if (!cfg.is_object()) cfg = json::object();
        return std::make_unique<HfTokenizer>(j, cfg, vocab, config);
    } catch (const json::exception& e) {
        fail("tokenizer.json: ", e.what(), "; the file is not a tokenizer the HF `tokenizers` library would load");
    }
}

}  // namespace lmx
