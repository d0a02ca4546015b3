#pragma once
// HF tokenizer.json models, each turning one pre-tokenized word into token ids with HF
// `tokenizers` semantics: BPE (merges, byte_fallback, unk fusing, ignore_merges,
// subword prefix / word suffix), WordPiece (greedy longest match), Unigram (Viterbi
// over piece scores, byte_fallback) and WordLevel.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lmx::hf {

class Model {
public:
    virtual ~Model() = default;
    virtual void tokenize(std::u32string_view word, std::vector<int32_t>& out) const = 0;
    // Every (token, id) of the model's vocabulary.
    const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }

protected:
    std::unordered_map<std::string, int32_t> vocab_;
};

// Throws lmx::Error naming an unsupported model type or a broken vocabulary.
std::unique_ptr<Model> model_from_json(const nlohmann::json& j);

// WordPiece as llama.cpp stores BERT vocabularies in GGUF: word-initial pieces carry
// word_prefix ("▁"), continuation pieces carry nothing.
std::unique_ptr<Model> wordpiece(std::unordered_map<std::string, int32_t> vocab, int32_t unk_id,
                                 std::string word_prefix, std::string continuing_prefix, size_t max_chars);

}  // namespace lmx::hf
