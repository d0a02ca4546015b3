#pragma once
// A BERT encoder's weights by the names HF's BertModel gives them, read from either an
// HF safetensors file or a GGUF file of architecture `bert` (llama.cpp's names:
// token_embd, position_embd, blk.N.attn_q, ...), so one builder serves both.
#include <optional>
#include <string>

#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "graph/ir.hpp"

namespace lmx::models {

struct EncoderWeight {
    std::string name;  // as the file names it
    DType dtype;
    graph::Dims dims;  // row-major: [N, K] for a matrix
    const uint8_t* data = nullptr;  // in the file's bytes; no alignment promised
    size_t nbytes = 0;
};

class EncoderWeights {
public:
    // Names with or without the "bert." prefix of BertForXxx checkpoints.
    explicit EncoderWeights(const safetensors::File& f);
    // Throws lmx::Error for a layout lmx does not read (fused attn_qkv).
    explicit EncoderWeights(const gguf::File& f);

    // hf_name: e.g. "encoder.layer.0.attention.self.query.weight". nullopt when absent.
    std::optional<EncoderWeight> find(const std::string& hf_name) const;
    // The name the file would give hf_name, for errors.
    std::string file_name(const std::string& hf_name) const;
    const std::string& path() const;

private:
    const safetensors::File* st_ = nullptr;
    const gguf::File* gguf_ = nullptr;
    std::string prefix_;  // safetensors: "bert." or ""
};

}  // namespace lmx::models
