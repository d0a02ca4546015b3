// tokenizer.ggml.model "bert": WordPiece as llama.cpp runs it. The text is normalized
// and split like HF's BertNormalizer + BertPreTokenizer (lowercase, accents stripped,
// punctuation and CJK ideographs on their own), then each word is matched greedily,
// longest piece first; llama.cpp stores word-initial pieces with a U+2581 prefix
// instead of marking continuations with "##". A word with an unmatched rest is [UNK].
#include <limits>

#include "formats/gguf.hpp"
#include "tokenizer/engine.hpp"
#include "tokenizer/hf_model.hpp"
#include "tokenizer/hf_normalizer.hpp"
#include "tokenizer/hf_pre_tokenizer.hpp"
#include "tokenizer/hf_text.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

class GgufWpm : public TokenizerEngine {
public:
    GgufWpm(const gguf::File& f, Vocab& vocab) : v_(vocab) {
        v_ = load_vocab(f, VocabDefaults{101, -1, true, false});
        if (f.has("tokenizer.ggml.cls_token_id")) {
            const int64_t cls = f.get_int("tokenizer.ggml.cls_token_id");
            if (cls >= 0 && cls < v_.size()) v_.bos = static_cast<int32_t>(cls);
        }
        const int64_t sep = f.get_int("tokenizer.ggml.seperator_token_id", 102);
        sep_ = sep >= 0 && sep < v_.size() ? static_cast<int32_t>(sep) : -1;
        const int64_t unk = f.get_int("tokenizer.ggml.unknown_token_id", 100);
        const int32_t unk_id = unk >= 0 && unk < v_.size() ? static_cast<int32_t>(unk) : 0;
        normalizer_ = hf::bert_normalizer(true, true, true, true);
        pre_ = hf::bert_pre_tokenizer();
        model_ = hf::wordpiece(v_.ids, unk_id, std::string(kSpace), "", std::numeric_limits<size_t>::max());
    }

    void encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const override {
        if (add_special && v_.bos >= 0) out.push_back(v_.bos);
        for (const Fragment& frag : split_special_tokens(v_, text, parse_special)) {
            if (frag.token >= 0) {
                out.push_back(frag.token);
                continue;
            }
            std::u32string t = unicode::to_code_points(text.substr(frag.offset, frag.length));
            normalizer_->apply(t);
            std::vector<hf::Piece> words{{std::move(t), true}};
            pre_->apply(words);
            for (const hf::Piece& w : words) model_->tokenize(w.text, out);
        }
        if (add_special && sep_ >= 0) out.push_back(sep_);
    }

    std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
        std::string out;
        for (int32_t id : ids)
            out += !skip_special && v_.has_attr(id, kAttrControl | kAttrUnknown) ? v_.text[static_cast<size_t>(id)] : piece(id);
        if (!out.empty() && out[0] == ' ') out.erase(0, 1);  // the first word's phantom space
        return out;
    }

    std::string piece(int32_t id) const override {
        if (v_.has_attr(id, kAttrControl | kAttrUnknown | kAttrUnused)) return {};
        return hf::replace_all_bytes(v_.text[static_cast<size_t>(id)], kSpace, " ");
    }

private:
    Vocab& v_;
    int32_t sep_ = -1;
    std::unique_ptr<hf::Normalizer> normalizer_;
    std::unique_ptr<hf::PreTokenizer> pre_;
    std::unique_ptr<hf::Model> model_;
};

}  // namespace

std::unique_ptr<TokenizerEngine> gguf_wpm_engine(const gguf::File& f, Vocab& vocab) {
    return std::make_unique<GgufWpm>(f, vocab);
}

}  // namespace lmx
