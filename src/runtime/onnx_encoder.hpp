#pragma once
// ONNX encoder exports (optimum, transformers.js, torch.onnx of a BertModel): inputs
// input_ids and attention_mask [batch, seq] (token_type_ids and position_ids when the
// graph has them), and an output of token states last_hidden_state / token_embeddings
// [batch, seq, dims], or of pooled vectors sentence_embedding [batch, dims]. Texts are
// padded to the longest of their batch; the states of each text's own tokens come back
// laid end to end, as the native encoder graph pools them.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/executor.hpp"
#include "models/onnx/onnx_import.hpp"

namespace lmx {

// Where each role sits among the graph's inputs and outputs (-1: not there).
struct OnnxEncoderIO {
    int input_ids = -1, attention_mask = -1, token_type_ids = -1, position_ids = -1;
    int output = -1;
    bool pooled = false;  // output is sentence_embedding: one vector per text already
};

// From the names of the graph's inputs and outputs; throws lmx::Error naming what is
// missing, or an input the encoder cannot feed.
OnnxEncoderIO detect_encoder_io(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);

class OnnxEncoder {
public:
    // bf16: dense layers multiply in bf16 where the CPU has native bf16 products
    // (models::ImportOptions). Throws lmx::Error naming the file and what about its graph
    // does not fit.
    OnnxEncoder(const std::string& onnx_path, bool bf16);

    // Runs texts (token ids, specials included) as one padded batch. Returns the states of
    // every text's tokens, texts back to back, [sum of lengths, dims]; or, for a graph
    // that pools, one row per text (starts then counts each text as one token).
    const std::vector<float>& run(graph::ExecContext& ctx, const std::vector<const std::vector<int32_t>*>& texts, int64_t& dims);

    bool pooled() const { return io_.pooled; }
    const onnx::Model& file() const { return model_->file; }

private:
    std::unique_ptr<models::OnnxGraph> model_;
    OnnxEncoderIO io_;
    graph::Executor exec_;
    std::vector<DType> input_dtypes_;
    std::vector<float> states_;
};

}  // namespace lmx
