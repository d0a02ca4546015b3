#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <initializer_list>

#include "base/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/bpe.hpp"
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

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& f) {
    const std::string model = f.get_string("tokenizer.ggml.model", "");
    if (model != "gpt2")
        fail(f.path(), ": tokenizer.ggml.model '", model,
             "' is not supported; lmx tokenizes byte-level BPE ('gpt2') models so far");
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

    auto tok = std::unique_ptr<Tokenizer>(new Tokenizer());
    tok->vocab_ = std::make_unique<Vocab>(load_vocab(f, defaults));
    tok->pre_ = *pre;
    tok->bpe_ = std::make_unique<BpeMerges>(*tok->vocab_, f.get_string_array("tokenizer.ggml.merges"), llama3);
    tok->bytes_.resize(static_cast<size_t>(tok->vocab_->size()));
    for (int32_t id = 0; id < tok->vocab_->size(); ++id) tok->bytes_[static_cast<size_t>(id)] = bytes_of(*tok->vocab_, id);
    return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    const Vocab& v = *vocab_;
    std::vector<int32_t> out;
    if (add_special && v.add_bos) out.push_back(v.bos);
    for (const Fragment& frag : split_special_tokens(v, text, parse_special)) {
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
            bpe_->encode_word(v, piece.substr(from, to - from), out);
            begin = end;
        }
    }
    if (add_special && v.add_eos) out.push_back(v.eos);
    return out;
}

void Tokenizer::check_id(int32_t id) const {
    if (id < 0 || id >= vocab_->size())
        fail("token id ", id, " is outside the vocabulary [0, ", vocab_->size(), ")");
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
    std::string out;
    for (int32_t id : ids) {
        check_id(id);
        if (!skip_special && vocab_->has_attr(id, kAttrControl | kAttrUnknown))
            out += vocab_->text[static_cast<size_t>(id)];
        else
            out += bytes_[static_cast<size_t>(id)];
    }
    return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
    check_id(id);
    return bytes_[static_cast<size_t>(id)];
}

std::string_view Tokenizer::token_text(int32_t id) const {
    check_id(id);
    return vocab_->text[static_cast<size_t>(id)];
}

int32_t Tokenizer::n_vocab() const { return vocab_->size(); }
int32_t Tokenizer::bos_id() const { return vocab_->bos; }
int32_t Tokenizer::eos_id() const { return vocab_->eos; }
bool Tokenizer::adds_bos() const { return vocab_->add_bos; }

bool Tokenizer::is_end_of_generation(int32_t id) const {
    const std::vector<int32_t>& eog = vocab_->end_of_generation;
    return std::binary_search(eog.begin(), eog.end(), id);
}

}  // namespace lmx
