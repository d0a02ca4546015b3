// tokenizer.ggml.model "gpt2": byte-level BPE with llama.cpp's pre-tokenizers.
#include <initializer_list>

#include "base/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/engine.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

namespace {

bool one_of(std::string_view s, std::initializer_list<std::string_view> list) {
    for (std::string_view x : list)
        if (x == s) return true;
    return false;
}

// What a token stands for in decoded text, as llama.cpp's token_to_piece renders it
// for a BPE vocabulary without special tokens.
std::string bytes_of(const Vocab& v, int32_t id) {
    const std::string& text = v.text[static_cast<size_t>(id)];
    if (v.has_attr(id, kAttrControl | kAttrUnknown)) return {};
    if (v.has_attr(id, kAttrUserDefined)) return text;  // stored as plain text
    if (v.has_attr(id, kAttrNormal)) {
        std::string out;
        for (const unicode::Char& c : unicode::decode_chars(text)) {
            const int byte = unicode::symbol_to_byte(c.cp);
            // A character outside the byte alphabet stands for itself (llama.cpp prints
            // an [UNK_BYTE_...] marker instead).
            if (byte >= 0) out += static_cast<char>(byte);
            else out.append(text, c.offset, c.len);
        }
        return out;
    }
    if (v.has_attr(id, kAttrByte) && text.size() == 6 && text.compare(0, 3, "<0x") == 0) {  // <0xAB>
        return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
    }
    return {};  // unused / undefined tokens render as nothing
}

class GgufBpe : public TokenizerEngine {
public:
    GgufBpe(const gguf::File& f, Vocab& vocab) : v_(vocab) {
        const std::string pre_name = f.get_string("tokenizer.ggml.pre", "");
        const std::optional<PreTokenizer> pre = pre_tokenizer_from_name(pre_name);
        if (!pre)
            fail(f.path(), ": tokenizer.ggml.pre '", pre_name,
                 "' is not supported; lmx knows the default, gpt-2/mpt, starcoder/smollm, llama3/llama-bpe, qwen2 and "
                 "deepseek-coder pre-tokenizers and their aliases");
        if (!f.has("tokenizer.ggml.merges"))
            fail(f.path(), ": tokenizer.ggml.merges is missing; a BPE tokenizer cannot work without its merges");

        // llama.cpp's BPE defaults, and what it sets per pre-tokenizer name on top.
        VocabDefaults defaults{11, 11, false, false};
        const bool llama3 = one_of(pre_name, {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                              "midm-2.0", "lfm2", "jina-v5-nano"});
        defaults.add_bos = llama3;
        if (one_of(pre_name, {"glm4", "chatglm-bpe"})) defaults.bos = -1;

        v_ = load_vocab(f, defaults);
        pre_ = *pre;
        bpe_ = std::make_unique<BpeMerges>(v_, f.get_string_array("tokenizer.ggml.merges"), llama3);
        bytes_.resize(static_cast<size_t>(v_.size()));
        for (int32_t id = 0; id < v_.size(); ++id) bytes_[static_cast<size_t>(id)] = bytes_of(v_, id);
    }

    void encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const override {
        if (add_special && v_.add_bos) out.push_back(v_.bos);
        for (const Fragment& frag : split_special_tokens(v_, text, parse_special)) {
            if (frag.token >= 0) {
                out.push_back(frag.token);
                continue;
            }
            const std::string_view piece = text.substr(frag.offset, frag.length);
            const std::vector<unicode::Char> chars = unicode::decode_chars(piece);
            size_t begin = 0;
            for (size_t end : pre_tokenize(pre_, chars)) {
                const size_t from = chars[begin].offset;
                const size_t to = end < chars.size() ? chars[end].offset : piece.size();
                bpe_->encode_word(v_, piece.substr(from, to - from), out);
                begin = end;
            }
        }
        if (add_special && v_.add_eos) out.push_back(v_.eos);
    }

    std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
        std::string out;
        for (int32_t id : ids) {
            if (!skip_special && v_.has_attr(id, kAttrControl | kAttrUnknown))
                out += v_.text[static_cast<size_t>(id)];
            else
                out += bytes_[static_cast<size_t>(id)];
        }
        return out;
    }

    std::string piece(int32_t id) const override { return bytes_[static_cast<size_t>(id)]; }

private:
    Vocab& v_;
    PreTokenizer pre_ = PreTokenizer::Default;
    std::unique_ptr<BpeMerges> bpe_;
    std::vector<std::string> bytes_;  // piece of every token
};

}  // namespace

std::unique_ptr<TokenizerEngine> gguf_bpe_engine(const gguf::File& f, Vocab& vocab) {
    return std::make_unique<GgufBpe>(f, vocab);
}

}  // namespace lmx
