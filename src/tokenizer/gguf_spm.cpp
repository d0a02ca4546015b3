// tokenizer.ggml.model "llama": SentencePiece BPE as llama.cpp runs it (llm_tokenizer_spm):
// spaces become U+2581 (plus one in front of text that follows a special token or the
// start), UTF-8 characters are merged pairwise, highest token score first and leftmost
// among equals, and characters left without a token fall back to <0xXX> byte tokens.
#include <queue>

#include "base/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/engine.hpp"
#include "tokenizer/hf_text.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

// llama.cpp's unicode_len_utf8: the sequence length its lead byte announces.
size_t lead_length(char c) {
    static const size_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[static_cast<uint8_t>(c) >> 4];
}

class GgufSpm : public TokenizerEngine {
public:
    GgufSpm(const gguf::File& f, Vocab& vocab) : v_(vocab) {
        v_ = load_vocab(f, VocabDefaults{1, 2, true, false});
        if (v_.score.empty()) v_.score.assign(static_cast<size_t>(v_.size()), 0.0f);
        add_space_prefix_ = f.get_bool("tokenizer.ggml.add_space_prefix", true);
        const int64_t unk = f.get_int("tokenizer.ggml.unknown_token_id", 0);
        unk_ = unk >= 0 && unk < v_.size() ? static_cast<int32_t>(unk) : -1;
        static const char* kHex = "0123456789ABCDEF";
        for (int b = 0; b < 256; ++b) {
            const std::string hex = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
            int32_t id = v_.find(hex);
            if (id < 0) id = v_.find(std::string(1, static_cast<char>(b)));
            byte_ids_[static_cast<size_t>(b)] = id >= 0 ? id : unk_;
        }
    }

    void encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const override {
        bool prev_special = true;  // text at the start gets the space prefix too
        if (add_special && v_.add_bos) out.push_back(v_.bos);
        for (const Fragment& frag : split_special_tokens(v_, text, parse_special)) {
            if (frag.token >= 0) {
                out.push_back(frag.token);
                prev_special = true;
                continue;
            }
            std::string s = add_space_prefix_ && prev_special ? " " : "";
            s += text.substr(frag.offset, frag.length);
            tokenize(hf::replace_all_bytes(s, " ", kSpace), out);
            prev_special = false;
        }
        if (add_special && v_.add_eos) out.push_back(v_.eos);
    }

    std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
        size_t first = 0;
        bool remove_space = add_space_prefix_;
        if (skip_special && v_.add_bos && !ids.empty() && ids[0] == v_.bos) {  // as llama_detokenize does
            first = 1;
            remove_space = false;
        }
        std::string out;
        for (size_t i = first; i < ids.size(); ++i) {
            const int32_t id = ids[i];
            std::string p = !skip_special && v_.has_attr(id, kAttrControl | kAttrUnknown) ? v_.text[static_cast<size_t>(id)]
                                                                                         : piece(id);
            if (remove_space && !p.empty() && p[0] == ' ') p.erase(0, 1);
            remove_space = false;
            out += p;
        }
        return out;
    }

    std::string piece(int32_t id) const override {
        const std::string& text = v_.text[static_cast<size_t>(id)];
        if (v_.has_attr(id, kAttrControl | kAttrUnknown)) return {};
        if (v_.has_attr(id, kAttrUserDefined)) return text;
        if (v_.has_attr(id, kAttrByte) && text.size() == 6 && text.compare(0, 3, "<0x") == 0)
            return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
        if (v_.has_attr(id, kAttrNormal)) return hf::replace_all_bytes(text, kSpace, " ");
        return {};
    }

private:
    struct Symbol {
        size_t begin, n;
        int32_t prev, next;
    };
    struct Bigram {
        int32_t left, right;
        float score;
        size_t size;
        bool operator<(const Bigram& o) const {  // the top is the highest score, then the leftmost
            return score < o.score || (score == o.score && left > o.left);
        }
    };

    void tokenize(const std::string& text, std::vector<int32_t>& out) const {
        std::vector<Symbol> syms;
        for (size_t at = 0; at < text.size();) {
            const size_t n = std::min(lead_length(text[at]), text.size() - at);
            const auto i = static_cast<int32_t>(syms.size());
            syms.push_back({at, n, i - 1, at + n == text.size() ? -1 : i + 1});
            at += n;
        }
        std::priority_queue<Bigram> queue;
        const auto try_add = [&](int32_t l, int32_t r) {
            if (l < 0 || r < 0) return;
            const Symbol& a = syms[static_cast<size_t>(l)];
            const Symbol& b = syms[static_cast<size_t>(r)];
            const int32_t id = v_.find(text.substr(a.begin, a.n + b.n));
            if (id >= 0) queue.push({l, r, v_.score[static_cast<size_t>(id)], a.n + b.n});
        };
        for (size_t i = 1; i < syms.size(); ++i) try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
        while (!queue.empty()) {
            const Bigram bg = queue.top();
            queue.pop();
            Symbol& l = syms[static_cast<size_t>(bg.left)];
            Symbol& r = syms[static_cast<size_t>(bg.right)];
            if (l.n == 0 || r.n == 0 || l.n + r.n != bg.size) continue;  // stale
            l.n += r.n;
            r.n = 0;
            l.next = r.next;
            if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = bg.left;
            try_add(l.prev, bg.left);
            try_add(bg.left, l.next);
        }
        for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[static_cast<size_t>(i)].next) {
            const Symbol& s = syms[static_cast<size_t>(i)];
            const int32_t id = v_.find(text.substr(s.begin, s.n));
            if (id >= 0) {
                out.push_back(id);
                continue;
            }
            for (size_t k = 0; k < s.n; ++k)
                if (const int32_t b = byte_ids_[static_cast<uint8_t>(text[s.begin + k])]; b >= 0) out.push_back(b);
        }
    }

    Vocab& v_;
    bool add_space_prefix_ = true;
    int32_t unk_ = -1;
    int32_t byte_ids_[256] = {};
};

}  // namespace

std::unique_ptr<TokenizerEngine> gguf_spm_engine(const gguf::File& f, Vocab& vocab) {
    return std::make_unique<GgufSpm>(f, vocab);
}

}  // namespace lmx
