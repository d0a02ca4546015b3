#include "models/graph_builder.hpp"

#include <algorithm>
#include <cstring>

#include "base/error.hpp"
#include "kernels/kernels.hpp"

namespace lmx::models {

using graph::Dims;
using graph::ValueId;

GraphBuilder::Inputs GraphBuilder::add_inputs() {
    return {g_.add_input("tokens", DType::I32, {graph::kTokens}), g_.add_input("positions", DType::I32, {graph::kTokens}),
            g_.add_input("seq_ids", DType::I32, {graph::kTokens}), g_.add_input("output_rows", DType::I32, {graph::kOutputs})};
}

ValueId GraphBuilder::weight(const std::string& name, Dims dims) {
    const gguf::TensorInfo* t = f_.tensor(name);
    if (!t) fail(f_.path(), ": tensor '", name, "' is missing (architecture ", c_.arch, ")");
    Dims ggml_order(dims.rbegin(), dims.rend());
    if (t->shape != ggml_order)
        fail(f_.path(), ": tensor '", name, "' has shape ", graph::dims_to_string(Dims(t->shape.rbegin(), t->shape.rend())),
             ", expected ", graph::dims_to_string(dims));
    return g_.add_constant(name, t->dtype, std::move(dims), t->data);
}

ValueId GraphBuilder::layer_weight(int layer, std::string_view suffix, Dims dims) {
    std::string name = "blk.";  // built by appending: g++ 12 warns falsely (-Wrestrict) on operator+ chains
    name.append(std::to_string(layer)).append(".").append(suffix);
    return weight(name, std::move(dims));
}

std::string GraphBuilder::layer_prefix(int layer) {
    std::string p = "l";
    p.append(std::to_string(layer)).append(".");
    return p;
}

// Whether this CPU's table has a GEMM for weight w's repacked layout.
static bool packable(const graph::Value& wv) {
    return kernels::PackedWeights::packs(wv.dtype) && wv.dims.size() == 2 && wv.dims[0] % kernels::kPackedRows == 0 &&
           kernels::best_table().packed[static_cast<int>(kernels::PackedWeights::layout_of(wv.dtype))];
}

std::shared_ptr<const kernels::PackedWeights> pack_weight(const graph::Value& wv) {
    if (!packable(wv)) return nullptr;
    return std::make_shared<const kernels::PackedWeights>(wv.dtype, wv.data, wv.dims[0], wv.dims[1]);
}

// pack_weight, and the file's copy of a packed weight is read again only by deterministic
// sessions (and rows of a tied embedding), so its pages go back to the OS: RSS holds one
// copy, not two.
static std::shared_ptr<const kernels::PackedWeights> pack(const gguf::File& f, const graph::Value& wv) {
    auto packed = pack_weight(wv);
    if (packed) f.release(wv.data, dtype_row_bytes(wv.dtype, wv.dims[1]) * static_cast<size_t>(wv.dims[0]));
    return packed;
}

ValueId GraphBuilder::matmul(ValueId x, ValueId w, const std::string& name, ValueId bias) {
    std::vector<ValueId> args = {x, w};
    if (bias >= 0) args.push_back(bias);
    const graph::Value& wv = g_.value(w);
    if (auto packed = pack(f_, wv)) return g_.add(ops::matmul(std::move(packed)), std::move(args), name);
    // Rows from the mapped file walk 4 KB pages: a copy in huge pages decodes Qwen2.5 (its
    // Q6_K matrices, 36% of its bytes) 6-8% faster, for ~1 s more loading on this VM.
    if (WeightMemory::huge_pages()) g_.move_constant(w, copy_to_weight_memory(wv));
    return g_.add(ops::matmul(), std::move(args), name);
}

const void* GraphBuilder::copy_to_weight_memory(const graph::Value& wv) {
    const size_t bytes = dtype_row_bytes(wv.dtype, wv.dims[1]) * static_cast<size_t>(wv.dims[0]);
    WeightMemory& copy = copies_.emplace_back(bytes);
    // in slices, each slice's file pages given back at once: RSS never holds two copies of
    // a large matrix (Qwen2.5's Q6_K output head is 191 MB)
    const auto* from = static_cast<const uint8_t*>(wv.data);
    constexpr size_t kSlice = size_t{8} << 20;
    for (size_t o = 0; o < bytes; o += kSlice) {
        const size_t n = std::min(kSlice, bytes - o);
        std::memcpy(copy.data() + o, from + o, n);
        f_.release(from + o, n);
    }
    f_.release(from, bytes);  // the pages that straddle two slices
    return copy.data();
}

void GraphBuilder::add_logits(ValueId x, ValueId output_rows, ValueId token_embd) {
    // Only the requested rows go through the final norm and the (large) output head.
    x = g_.add(ops::gather_rows(), {x, output_rows}, "outputs");
    x = g_.add(ops::rms_norm(c_.rms_eps), {x, weight("output_norm.weight", {c_.n_embd})}, "output_norm");
    ValueId head = c_.tied_output ? token_embd : weight("output.weight", {c_.n_vocab, c_.n_embd});
    g_.mark_output(matmul(x, head, "logits"));
}

}  // namespace lmx::models
