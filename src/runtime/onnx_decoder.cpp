#include "runtime/onnx_decoder.hpp"

#include <cstring>
#include <map>

#include "base/error.hpp"
#include "base/fp16.hpp"

namespace lmx {

// "past_key_values.12.key" -> (12, "key"), the naming optimum, transformers.js and
// onnxruntime-genai exports share.
static bool parse_layer_name(const std::string& name, const std::string& prefix, int& layer, std::string& kind) {
    if (name.rfind(prefix, 0) != 0) return false;
    const size_t dot = name.find('.', prefix.size());
    if (dot == std::string::npos || dot == prefix.size()) return false;
    const std::string num = name.substr(prefix.size(), dot - prefix.size());
    if (num.find_first_not_of("0123456789") != std::string::npos || num.size() > 6) return false;
    layer = std::stoi(num);
    kind = name.substr(dot + 1);
    return kind == "key" || kind == "value";
}

OnnxDecoderIO detect_decoder_io(const graph::Graph& g) {
    OnnxDecoderIO io;
    std::map<int, std::pair<int, int>> past, present;  // layer -> (key, value) index
    for (size_t i = 0; i < g.inputs().size(); i++) {
        const graph::Value& v = g.value(g.inputs()[i]);
        int layer;
        std::string kind;
        if (v.name == "input_ids") io.input_ids = static_cast<int>(i);
        else if (v.name == "attention_mask") io.attention_mask = static_cast<int>(i);
        else if (v.name == "position_ids") io.position_ids = static_cast<int>(i);
        else if (parse_layer_name(v.name, "past_key_values.", layer, kind)) {
            auto& e = past.try_emplace(layer, -1, -1).first->second;
            (kind == "key" ? e.first : e.second) = static_cast<int>(i);
            io.kv_dtype = v.dtype;
            if (v.dims.size() != 4) fail("input '", v.name, "' must have 4 dims [batch, kv_heads, past, head_dim]");
            if (v.dims[1] > 0) io.kv_heads = v.dims[1];
            if (v.dims[3] > 0) io.head_dim = v.dims[3];
        } else {
            fail("input '", v.name, "' is not one a decoder-with-past model has (input_ids, attention_mask, position_ids, past_key_values.N.key/value)");
        }
    }
    for (size_t i = 0; i < g.outputs().size(); i++) {
        const graph::Value& v = g.value(g.outputs()[i]);
        int layer;
        std::string kind;
        if (v.name == "logits") io.logits = static_cast<int>(i);
        else if (parse_layer_name(v.name, "present.", layer, kind)) {
            auto& e = present.try_emplace(layer, -1, -1).first->second;
            (kind == "key" ? e.first : e.second) = static_cast<int>(i);
        }
    }
    if (io.input_ids < 0) fail("the graph has no input_ids input: not a decoder model");
    if (io.logits < 0) fail("the graph has no logits output: not a decoder model");
    if (g.value(g.inputs()[static_cast<size_t>(io.input_ids)]).dtype != DType::I64)
        fail("input_ids must be int64");
    if (io.kv_dtype != DType::F32 && io.kv_dtype != DType::F16) fail("past key/values must be float32 or float16");
    for (int l = 0; l < static_cast<int>(past.size()); l++) {
        auto p = past.find(l), q = present.find(l);
        if (p == past.end() || p->second.first < 0 || p->second.second < 0)
            fail("past_key_values.", l, ".key/value missing: layers must be numbered from 0 without gaps");
        if (q == present.end() || q->second.first < 0 || q->second.second < 0) fail("output present.", l, ".key/value missing");
        io.past_key.push_back(p->second.first);
        io.past_value.push_back(p->second.second);
        io.present_key.push_back(q->second.first);
        io.present_value.push_back(q->second.second);
    }
    return io;
}

OnnxDecoderState::OnnxDecoderState(const graph::Graph& g, const OnnxDecoderIO& io, int n_seq, int64_t n_ctx)
    : graph_(g), exec_(g), io_(io), n_ctx_(n_ctx), slots_(static_cast<size_t>(n_seq)) {
    for (Slot& s : slots_) s.past.resize(static_cast<size_t>(2 * io.n_layers()));
}

size_t OnnxDecoderState::bytes() const {
    size_t n = 0;
    for (const Slot& s : slots_)
        for (const Past& p : s.past) n += p.storage.size();
    return n;
}

// Keeps the first len positions of every head ([1, kv_heads, old_len, head_dim] rows).
void OnnxDecoderState::truncate(int seq, int64_t len) {
    Slot& s = slots_[static_cast<size_t>(seq)];
    const size_t row = static_cast<size_t>(io_.head_dim) * dtype_info(io_.kv_dtype).block_bytes;
    for (Past& p : s.past) {
        std::vector<uint8_t> kept(static_cast<size_t>(io_.kv_heads * len) * row);
        for (int64_t h = 0; h < io_.kv_heads; h++)
            std::memcpy(kept.data() + static_cast<size_t>(h * len) * row, p.data + static_cast<size_t>(h * s.len) * row, static_cast<size_t>(len) * row);
        exec_.recycle(std::move(p.storage));
        p.storage = std::move(kept);
        p.data = p.storage.data();
    }
    s.len = len;
}

const std::vector<float>& OnnxDecoderState::run(graph::ExecContext& ctx, int seq, int64_t pos, const std::vector<int32_t>& tokens) {
    if (seq < 0 || seq >= static_cast<int>(slots_.size())) fail("sequence id ", seq, " is out of range (", slots_.size(), " slots)");
    Slot& s = slots_[static_cast<size_t>(seq)];
    if (pos > s.len) fail("sequence ", seq, ": position ", pos, " skips past the ", s.len, " cached positions");
    const int64_t n = static_cast<int64_t>(tokens.size()), total = pos + n;
    if (total > n_ctx_) fail("sequence ", seq, " needs ", total, " positions, the context holds ", n_ctx_);
    if (pos < s.len) truncate(seq, pos);

    std::vector<int64_t> ids(tokens.begin(), tokens.end()), mask(static_cast<size_t>(total), 1), positions(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++) positions[static_cast<size_t>(i)] = pos + i;
    std::vector<graph::Tensor> in(graph_.inputs().size());
    in[static_cast<size_t>(io_.input_ids)] = {DType::I64, {1, n}, ids.data()};
    if (io_.attention_mask >= 0) in[static_cast<size_t>(io_.attention_mask)] = {DType::I64, {1, total}, mask.data()};
    if (io_.position_ids >= 0) in[static_cast<size_t>(io_.position_ids)] = {DType::I64, {1, n}, positions.data()};
    for (int l = 0; l < io_.n_layers(); l++) {
        const graph::Dims d{1, io_.kv_heads, pos, io_.head_dim};
        in[static_cast<size_t>(io_.past_key[static_cast<size_t>(l)])] = {io_.kv_dtype, d, const_cast<uint8_t*>(s.past[static_cast<size_t>(2 * l)].data)};
        in[static_cast<size_t>(io_.past_value[static_cast<size_t>(l)])] = {io_.kv_dtype, d, const_cast<uint8_t*>(s.past[static_cast<size_t>(2 * l + 1)].data)};
    }
    const std::vector<graph::Tensor> out = exec_.run(ctx, in);

    // present becomes the next step's past: its memory is taken from the executor (the old
    // past's goes back to it), copied only when the executor does not own it.
    for (int l = 0; l < io_.n_layers(); l++)
        for (int kv = 0; kv < 2; kv++) {
            const int output = kv == 0 ? io_.present_key[static_cast<size_t>(l)] : io_.present_value[static_cast<size_t>(l)];
            const graph::Tensor& t = out[static_cast<size_t>(output)];
            if (t.dtype != io_.kv_dtype || t.dims != graph::Dims{1, io_.kv_heads, total, io_.head_dim})
                fail("present.", l, kv == 0 ? ".key" : ".value", " has dims ", graph::dims_to_string(t.dims), ", expected [1, ",
                     io_.kv_heads, ", ", total, ", ", io_.head_dim, "]");
            Past& p = s.past[static_cast<size_t>(2 * l + kv)];
            std::vector<uint8_t> next = exec_.take_output(static_cast<size_t>(output));
            const uint8_t* data = static_cast<const uint8_t*>(t.data);
            if (next.empty()) {  // t may be the old past passed through: copied before that is recycled
                next.assign(data, data + static_cast<size_t>(t.elements()) * dtype_info(t.dtype).block_bytes);
                data = next.data();
            }
            exec_.recycle(std::move(p.storage));
            p.storage = std::move(next);
            p.data = data;
        }
    s.len = total;

    const graph::Tensor& logits = out[static_cast<size_t>(io_.logits)];
    if (logits.dims.size() != 3 || logits.dims[0] != 1 || logits.dims[1] != n)
        fail("logits has dims ", graph::dims_to_string(logits.dims), ", expected [1, ", n, ", vocab]");
    logits_.resize(static_cast<size_t>(logits.elements()));
    if (logits.dtype == DType::F32) std::memcpy(logits_.data(), logits.data, logits_.size() * 4);
    else if (logits.dtype == DType::F16)
        for (size_t i = 0; i < logits_.size(); i++) logits_[i] = fp16_to_fp32(logits.as<uint16_t>()[i]);
    else fail("logits must be float32 or float16, got ", dtype_name(logits.dtype));
    return logits_;
}

}  // namespace lmx
