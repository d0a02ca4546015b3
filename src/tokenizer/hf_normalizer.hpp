#pragma once
// HF tokenizer.json normalizers: NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Replace,
// Prepend, Strip, BertNormalizer, ByteLevel and Sequence, with HF `tokenizers` semantics.
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace lmx::hf {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void apply(std::u32string& text) const = 0;
};

// nullptr for a JSON null; throws lmx::Error naming an unsupported type.
std::unique_ptr<Normalizer> normalizer_from_json(const nlohmann::json& j);

// BertNormalizer as a building block (the GGUF WordPiece tokenizer uses it too).
std::unique_ptr<Normalizer> bert_normalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents,
                                            bool lowercase);

}  // namespace lmx::hf
