#pragma once
// HF tokenizer.json decoders: ByteLevel, Metaspace, WordPiece, ByteFallback, Fuse, Strip,
// Replace, BPEDecoder and Sequence. Each rewrites the list of token strings, as HF's
// decode_chain does; the result is their concatenation. Unlike HF, bytes that do not
// form valid UTF-8 are kept as they are (StreamDecoder turns them into U+FFFD when it
// prints), so that a character split across tokens survives a streamed decode.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lmx::hf {

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void apply(std::vector<std::string>& tokens) const = 0;
};

// nullptr for a JSON null (HF then joins tokens with spaces); throws lmx::Error naming
// an unsupported type.
std::unique_ptr<Decoder> decoder_from_json(const nlohmann::json& j);

}  // namespace lmx::hf
