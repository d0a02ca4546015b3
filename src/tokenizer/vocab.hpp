#pragma once
// The vocabulary shared by every tokenizer model: token strings and attributes, the
// special token ids, which tokens end generation, and which ones are matched as whole
// strings before tokenizing (control / user-defined). Loaded from GGUF the way
// llama.cpp's llama_vocab::load does it.
#include <cstdint>
#include <string>
#include <set>
#include <unordered_map>
#include <vector>

namespace lmx {

namespace gguf {
class File;
}

// llama_token_attr bits.
enum TokenAttr : uint32_t {
    kAttrUnknown = 1u << 0,
    kAttrUnused = 1u << 1,
    kAttrNormal = 1u << 2,
    kAttrControl = 1u << 3,
    kAttrUserDefined = 1u << 4,
    kAttrByte = 1u << 5,
};

// What a tokenizer model assumes when the GGUF metadata does not say.
struct VocabDefaults {
    int32_t bos = -1, eos = -1;
    bool add_bos = false, add_eos = false;
};

struct Vocab {
    std::vector<std::string> text;   // as stored (byte-level symbols for BPE)
    std::vector<uint32_t> attr;      // TokenAttr bits
    std::vector<float> score;        // SentencePiece scores (empty when the model has none)
    std::unordered_map<std::string, int32_t> ids;
    int32_t bos = -1, eos = -1;
    bool add_bos = false, add_eos = false;
    std::vector<int32_t> end_of_generation;  // sorted
    std::vector<int32_t> special;            // control / user-defined / unknown, longest text first

    int32_t size() const { return static_cast<int32_t>(text.size()); }
    int32_t find(const std::string& s) const {
        const auto it = ids.find(s);
        return it == ids.end() ? -1 : it->second;
    }
    bool has_attr(int32_t id, uint32_t mask) const { return (attr[static_cast<size_t>(id)] & mask) != 0; }
};

Vocab load_vocab(const gguf::File& f, const VocabDefaults& defaults);

// The end-of-generation set (eog plus every token llama.cpp recognizes by its text,
// which also become control tokens) and the longest-first list of special tokens.
void finish_vocab(Vocab& v, std::set<int32_t> eog);

}  // namespace lmx
