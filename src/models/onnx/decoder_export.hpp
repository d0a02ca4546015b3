#pragma once
// Exports a llama-family GGUF decoder (llama, SmolLM2, qwen2) as an ONNX
// decoder-with-past graph in the layout transformers.js and onnxruntime-genai read:
//   inputs  input_ids i64 [batch, seq], attention_mask i64 [batch, total],
//           position_ids i64 [batch, seq], past_key_values.N.key/value [batch, kv_heads, past, head_dim]
//   outputs logits [batch, seq, vocab], present.N.key/value [batch, kv_heads, total, head_dim]
// with dynamic batch and sequence axes. Standard ops only (plus onnxruntime's
// SimplifiedLayerNormalization, which onnxruntime registers in the standard domain), fp32
// weights dequantized from the GGUF blocks, q/k projections in Hugging Face's rotate-half layout (GGUF
// stores llama's permuted for ggml's adjacent-pair RoPE), so the graph computes what the
// original transformers model does.
#include <functional>
#include <string>

#include "formats/gguf.hpp"
#include "formats/onnx.hpp"

namespace lmx::models {

struct ExportOptions {
    // Called after each weight tensor is converted: (GGUF bytes done, bytes in all).
    std::function<void(size_t, size_t)> progress;
};

onnx::Model export_decoder(const gguf::File& f, const ExportOptions& opt);

// config.json (Hugging Face's LlamaConfig/Qwen2Config fields transformers.js reads) and
// generation_config.json for the exported model.
std::string export_config_json(const gguf::File& f);
std::string export_generation_config_json(const gguf::File& f);
// genai_config.json, so onnxruntime-genai runs the folder too (greedy search; the model
// file relative to the folder, e.g. "onnx/model.onnx").
std::string export_genai_config_json(const gguf::File& f, const std::string& model_file);

}  // namespace lmx::models
