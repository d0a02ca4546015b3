#include "tokenizer/hf_export.hpp"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

namespace {

using json = nlohmann::ordered_json;  // keeps the vocabulary in id order, as HF writes it

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// The regexes of each pre-tokenizer, in the order llama.cpp applies them
// (llm_tokenizer_bpe's regex_exprs; pretokenize.cpp implements the same list by hand).
// Each becomes a Split step that keeps both the matches and the text between them.
std::vector<std::string> pre_regexes(PreTokenizer pre) {
    const std::string gpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
    const auto llama3 = [](const std::string& digits) {
        return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|)" + digits +
               R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    };
    switch (pre) {
        case PreTokenizer::Gpt2: return {gpt2};
        case PreTokenizer::StarCoder: return {R"(\p{N})", gpt2};
        case PreTokenizer::Llama3: return {llama3(R"(\p{N}{1,3})")};
        case PreTokenizer::Qwen2: return {llama3(R"(\p{N})")};
        case PreTokenizer::Default: return {R"([\p{P}\$\+<=>\^~\|]+)", gpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
        case PreTokenizer::DeepSeekCoder:
            return {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
                    R"(\p{N})"};
    }
    LMX_ASSERT(false);
    return {};
}

// The pre-tokenizer names for which llama.cpp sets ignore_merges (a word that is a
// token is not merged), as gguf_bpe.cpp does.
bool ignores_merges(std::string_view pre) {
    for (std::string_view name :
         {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"})
        if (name == pre) return true;
    return false;
}

json byte_level(bool add_prefix_space, bool use_regex) {
    return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true},
            {"use_regex", use_regex}};
}

json string_pattern(std::string_view s) { return {{"String", s}}; }

// Tokens matched as whole strings before the model runs: control and unknown ones
// (special, which llama.cpp matches only when asked to parse specials) and
// user-defined ones (always matched). normalized=false: llama.cpp matches them in the
// raw text.
json added_tokens(const Vocab& v) {
    json out = json::array();
    for (int32_t id = 0; id < v.size(); ++id) {
        const bool special = v.has_attr(id, kAttrControl | kAttrUnknown);
        if (!special && !v.has_attr(id, kAttrUserDefined)) continue;
        out.push_back({{"id", id},
                       {"content", v.text[static_cast<size_t>(id)]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", special}});
    }
    return out;
}

json vocab_map(const Vocab& v) {
    json out = json::object();
    for (int32_t id = 0; id < v.size(); ++id) out[v.text[static_cast<size_t>(id)]] = id;
    return out;
}

// BOS / EOS as the GGUF says they are added, as a TemplateProcessing (null when none).
json post_processor(const Tokenizer& tok, const Vocab& v, bool add_eos) {
    const bool add_bos = tok.adds_bos() && tok.bos_id() >= 0;
    add_eos = add_eos && tok.eos_id() >= 0;
    if (!add_bos && !add_eos) return nullptr;
    json single = json::array(), pair = json::array(), specials = json::object();
    const auto special = [&](int32_t id, json& seq, int type_id) {
        const std::string& text = v.text[static_cast<size_t>(id)];
        seq.push_back({{"SpecialToken", {{"id", text}, {"type_id", type_id}}}});
        specials[text] = {{"id", text}, {"ids", {id}}, {"tokens", {text}}};
    };
    const auto sequence = [&](const char* name, int type_id, json& seq) {
        if (add_bos) special(tok.bos_id(), seq, type_id);
        seq.push_back({{"Sequence", {{"id", name}, {"type_id", type_id}}}});
        if (add_eos) special(tok.eos_id(), seq, type_id);
    };
    sequence("A", 0, single);
    sequence("A", 0, pair);
    sequence("B", 1, pair);
    return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

json bpe_model(json vocab, json merges, const json& unk, bool byte_fallback, bool ignore_merges) {
    return {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", unk},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", byte_fallback},
            {"byte_fallback", byte_fallback},
            {"ignore_merges", ignore_merges},
            {"vocab", std::move(vocab)},
            {"merges", std::move(merges)}};
}

// Byte-level BPE: the GGUF merges as they are ("a b"; byte-level symbols hold no space).
// Fills root's other components and returns the model.
json gpt2_model(const gguf::File& f, const Tokenizer& tok, const Vocab& v, json& root) {
    const std::string pre_name = f.get_string("tokenizer.ggml.pre", "");
    const std::optional<PreTokenizer> pre = pre_tokenizer_from_name(pre_name);
    LMX_ASSERT(pre);  // Tokenizer::from_gguf rejected the others
    json steps = json::array();
    for (const std::string& re : pre_regexes(*pre))
        steps.push_back(
            {{"type", "Split"}, {"pattern", {{"Regex", re}}}, {"behavior", "Isolated"}, {"invert", false}});
    steps.push_back(byte_level(false, false));

    json merges = json::array();
    for (const std::string& m : f.get_string_array("tokenizer.ggml.merges")) {
        const size_t sp = m.find(' ');
        if (sp == std::string::npos || m.find(' ', sp + 1) != std::string::npos)
            fail(f.path(), ": merge '", m, "' is not two tokens separated by one space");
        merges.push_back({m.substr(0, sp), m.substr(sp + 1)});
    }
    root["normalizer"] = nullptr;
    root["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", steps}};
    root["post_processor"] = post_processor(tok, v, f.get_bool("tokenizer.ggml.add_eos_token", false));
    root["decoder"] = byte_level(true, true);
    return bpe_model(vocab_map(v), std::move(merges), nullptr, false, ignores_merges(pre_name));
}

// SentencePiece BPE. The merges are derived from the piece scores as HF's
// SentencePieceExtractor does: every split of a piece into two pieces is a merge, ranked
// by the merged piece's score (highest first; ties in id order), which is the order
// llama.cpp's SPM tokenizer merges in. Fills root's other components and returns the model.
json llama_model(const gguf::File& f, const Tokenizer& tok, const Vocab& v, json& root) {
    struct Merge {
        int32_t left, right, merged;
    };
    std::vector<Merge> merges;
    for (int32_t id = 0; id < v.size(); ++id) {
        const std::string& s = v.text[static_cast<size_t>(id)];
        const std::vector<unicode::Char> chars = unicode::decode_chars(s);
        for (size_t i = 1; i < chars.size(); ++i) {
            const int32_t l = v.find(s.substr(0, chars[i].offset)), r = v.find(s.substr(chars[i].offset));
            if (l >= 0 && r >= 0) merges.push_back({l, r, id});
        }
    }
    const auto score = [&](int32_t id) { return v.score.empty() ? 0.0f : v.score[static_cast<size_t>(id)]; };
    std::stable_sort(merges.begin(), merges.end(), [&](const Merge& a, const Merge& b) {
        if (a.merged == b.merged) return a.left != b.left ? a.left < b.left : a.right < b.right;
        return score(a.merged) > score(b.merged);
    });
    json merge_list = json::array();
    for (const Merge& m : merges)
        merge_list.push_back({v.text[static_cast<size_t>(m.left)], v.text[static_cast<size_t>(m.right)]});

    const int64_t unk = f.get_int("tokenizer.ggml.unknown_token_id", 0);
    const json unk_token = unk >= 0 && unk < v.size() ? json(v.text[static_cast<size_t>(unk)]) : json(nullptr);

    json normalizers = json::array();
    if (f.get_bool("tokenizer.ggml.add_space_prefix", true))
        normalizers.push_back({{"type", "Prepend"}, {"prepend", kSpace}});
    normalizers.push_back({{"type", "Replace"}, {"pattern", string_pattern(" ")}, {"content", kSpace}});
    root["normalizer"] = {{"type", "Sequence"}, {"normalizers", normalizers}};
    root["pre_tokenizer"] = nullptr;
    root["post_processor"] = post_processor(tok, v, f.get_bool("tokenizer.ggml.add_eos_token", false));
    json decoders = json::array();
    decoders.push_back({{"type", "Replace"}, {"pattern", string_pattern(kSpace)}, {"content", " "}});
    decoders.push_back({{"type", "ByteFallback"}});
    decoders.push_back({{"type", "Fuse"}});
    decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    root["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
    return bpe_model(vocab_map(v), std::move(merge_list), unk_token, true, false);
}

std::string model_type(const gguf::File& f) {
    std::string model = f.get_string("tokenizer.ggml.model", "");
    if (model != "gpt2" && model != "llama")
        fail(f.path(), ": cannot write a tokenizer.json for tokenizer.ggml.model '", model,
             "'; lmx writes them for 'gpt2' (byte-level BPE) and 'llama' (SentencePiece) vocabularies");
    return model;
}

}  // namespace

std::string hf_tokenizer_json(const gguf::File& f) {
    const std::string model = model_type(f);
    const std::unique_ptr<Tokenizer> tok = Tokenizer::from_gguf(f);  // validates the vocabulary and pre-tokenizer
    const Vocab v = load_vocab(f, VocabDefaults{});  // texts and attributes (bos/eos come from tok)
    json root = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added_tokens(v)}};
    json m = model == "gpt2" ? gpt2_model(f, *tok, v, root) : llama_model(f, *tok, v, root);
    root["model"] = std::move(m);
    return root.dump(2, ' ', false, json::error_handler_t::strict) + "\n";
}

std::string hf_tokenizer_config_json(const gguf::File& f) {
    model_type(f);
    const std::unique_ptr<Tokenizer> tok = Tokenizer::from_gguf(f);
    const auto token = [&](int64_t id) {
        return id >= 0 && id < tok->n_vocab() ? json(std::string(tok->token_text(static_cast<int32_t>(id))))
                                              : json(nullptr);
    };
    json cfg = json::object();
    cfg["add_bos_token"] = tok->adds_bos();
    cfg["add_eos_token"] = f.get_bool("tokenizer.ggml.add_eos_token", false);
    cfg["bos_token"] = token(tok->bos_id());
    cfg["eos_token"] = token(tok->eos_id());
    cfg["unk_token"] = token(f.get_int("tokenizer.ggml.unknown_token_id", -1));
    cfg["pad_token"] = token(f.get_int("tokenizer.ggml.padding_token_id", -1));
    cfg["clean_up_tokenization_spaces"] = false;
    // Left out when the GGUF does not say (transformers then assumes no limit).
    if (const gguf::Value* n = f.find(f.get_string("general.architecture", "") + ".context_length"))
        cfg["model_max_length"] = n->as_int();
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast";
    if (!tok->chat_template().empty()) cfg["chat_template"] = tok->chat_template();
    return cfg.dump(2, ' ', false, json::error_handler_t::strict) + "\n";
}

}  // namespace lmx
