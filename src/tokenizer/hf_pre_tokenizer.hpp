#pragma once
// HF tokenizer.json pre-tokenizers: ByteLevel, Split, Whitespace, WhitespaceSplit,
// Metaspace, Digits, Punctuation, BertPreTokenizer, CharDelimiterSplit and Sequence,
// splitting normalized text into the words a model tokenizes, with HF `tokenizers`
// semantics (SplitDelimiterBehavior, invert, prepend schemes).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lmx::hf {

struct Piece {
    std::u32string text;
    bool at_start;  // begins at offset 0 of the original input (Metaspace's "first" scheme)
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces every piece by the pieces it splits into.
    virtual void apply(std::vector<Piece>& pieces) const = 0;
};

// nullptr for a JSON null; throws lmx::Error naming an unsupported type.
std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const nlohmann::json& j);

std::unique_ptr<PreTokenizer> bert_pre_tokenizer();

}  // namespace lmx::hf
