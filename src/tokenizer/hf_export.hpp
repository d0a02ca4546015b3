#pragma once
// A GGUF vocabulary written as Hugging Face tokenizer.json / tokenizer_config.json, for
// the model folders `lmx export` makes (transformers.js, HF `tokenizers`). The files
// tokenize the way llama.cpp (and lmx) tokenize the GGUF:
// - tokenizer.ggml.model "gpt2": byte-level BPE, the pre-tokenizer's regexes as Split
//   steps followed by ByteLevel;
// - "llama": SentencePiece as HF's LlamaTokenizerFast stores it (BPE with byte
//   fallback, merges derived from the piece scores).
// Other tokenizer models throw lmx::Error naming the model.
#include <string>

namespace lmx {

namespace gguf {
class File;
}

std::string hf_tokenizer_json(const gguf::File& f);
// bos/eos/unk/pad tokens, add_bos_token/add_eos_token, model_max_length (the model's
// context length) and the chat template when the GGUF has one.
std::string hf_tokenizer_config_json(const gguf::File& f);

}  // namespace lmx
