#include "runtime/onnx_encoder.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "base/fp16.hpp"

namespace lmx {

OnnxEncoderIO detect_encoder_io(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
    OnnxEncoderIO io;
    for (size_t i = 0; i < inputs.size(); i++) {
        const std::string& name = inputs[i];
        const int at = static_cast<int>(i);
        if (name == "input_ids") io.input_ids = at;
        else if (name == "attention_mask") io.attention_mask = at;
        else if (name == "token_type_ids") io.token_type_ids = at;
        else if (name == "position_ids") io.position_ids = at;
        else fail("input '", name, "' is not one an encoder has (input_ids, attention_mask, token_type_ids, position_ids)");
    }
    if (io.input_ids < 0) fail("the graph has no input_ids input: not a text encoder");
    if (io.attention_mask < 0) fail("the graph has no attention_mask input, so padded batches cannot be masked");
    // sentence-transformers exports may give both; their pooled output is preferred
    for (const char* role : {"sentence_embedding", "last_hidden_state", "token_embeddings"})
        for (size_t i = 0; i < outputs.size() && io.output < 0; i++)
            if (outputs[i] == role) {
                io.output = static_cast<int>(i);
                io.pooled = outputs[i] == "sentence_embedding";
            }
    if (io.output < 0) fail("the graph has none of the outputs an encoder gives (last_hidden_state, token_embeddings, sentence_embedding)");
    return io;
}

static std::vector<std::string> value_names(const graph::Graph& g, const std::vector<graph::ValueId>& ids) {
    std::vector<std::string> names;
    for (graph::ValueId id : ids) names.push_back(g.value(id).name);
    return names;
}

static std::unique_ptr<models::OnnxGraph> import_encoder(const std::string& path, bool bf16) {
    try {
        return models::import_onnx(onnx::Model::open(path), {.bf16 = bf16});
    } catch (const Error& e) {
        fail(path, ": ", e.what());
    }
}

OnnxEncoder::OnnxEncoder(const std::string& onnx_path, bool bf16) : model_(import_encoder(onnx_path, bf16)), exec_(model_->graph) {
    const graph::Graph& g = model_->graph;
    try {
        io_ = detect_encoder_io(value_names(g, g.inputs()), value_names(g, g.outputs()));
        for (graph::ValueId id : g.inputs()) {
            const graph::Value& v = g.value(id);
            if (v.dtype != DType::I64 && v.dtype != DType::I32) fail("input '", v.name, "' must be int64 or int32, not ", dtype_name(v.dtype));
            input_dtypes_.push_back(v.dtype);
        }
    } catch (const Error& e) {
        fail(onnx_path, ": ", e.what());
    }
}

const std::vector<float>& OnnxEncoder::run(graph::ExecContext& ctx, const std::vector<const std::vector<int32_t>*>& texts, int64_t& dims) {
    const auto batch = static_cast<int64_t>(texts.size());
    int64_t seq = 0;
    for (const auto* t : texts) seq = std::max<int64_t>(seq, static_cast<int64_t>(t->size()));
    // One row per text, its tokens then padding (id 0, masked out): right padding, so a
    // text's token i sits at position i, as unpadded.
    const size_t cells = static_cast<size_t>(batch * seq);
    std::vector<int64_t> ids(cells, 0), mask(cells, 0), types(cells, 0), positions(cells, 0);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < seq; i++) {
            const auto at = static_cast<size_t>(b * seq + i);
            positions[at] = i;
            if (i < static_cast<int64_t>(texts[static_cast<size_t>(b)]->size())) {
                ids[at] = (*texts[static_cast<size_t>(b)])[static_cast<size_t>(i)];
                mask[at] = 1;
            }
        }
    std::vector<std::vector<int32_t>> narrow;  // the int32 copies of inputs declared int32
    std::vector<graph::Tensor> in(input_dtypes_.size());
    auto feed = [&](int index, std::vector<int64_t>& values) {
        if (index < 0) return;
        const auto i = static_cast<size_t>(index);
        if (input_dtypes_[i] == DType::I64) {
            in[i] = {DType::I64, {batch, seq}, values.data()};
            return;
        }
        narrow.emplace_back(values.begin(), values.end());
        in[i] = {DType::I32, {batch, seq}, narrow.back().data()};
    };
    narrow.reserve(4);  // feed() holds pointers into it
    feed(io_.input_ids, ids);
    feed(io_.attention_mask, mask);
    feed(io_.token_type_ids, types);
    feed(io_.position_ids, positions);
    const std::vector<graph::Tensor> out = exec_.run(ctx, in);

    const graph::Tensor& y = out.at(static_cast<size_t>(io_.output));
    const size_t rank = io_.pooled ? 2 : 3;
    if (y.dims.size() != rank || y.dims[0] != batch || (!io_.pooled && y.dims[1] != seq))
        fail("output has dims ", graph::dims_to_string(y.dims), ", expected ", io_.pooled ? "[batch, dims]" : "[batch, seq, dims]", " for a batch of ",
             batch, " texts of ", seq, " tokens");
    if (y.dtype != DType::F32 && y.dtype != DType::F16) fail("output must be float32 or float16, got ", dtype_name(y.dtype));
    dims = y.dims.back();
    // Keep each text's own rows: all of them, or the pooled one.
    states_.clear();
    const int64_t rows_per_text = io_.pooled ? 1 : seq;
    for (int64_t b = 0; b < batch; b++) {
        const int64_t keep = io_.pooled ? 1 : static_cast<int64_t>(texts[static_cast<size_t>(b)]->size());
        const size_t first = static_cast<size_t>(b * rows_per_text * dims), n = static_cast<size_t>(keep * dims);
        if (y.dtype == DType::F32) states_.insert(states_.end(), y.as<float>() + first, y.as<float>() + first + n);
        else
            for (size_t i = 0; i < n; i++) states_.push_back(fp16_to_fp32(y.as<uint16_t>()[first + i]));
    }
    return states_;
}

}  // namespace lmx
