#pragma once
// What every architecture's builder shares: weights looked up and shape-checked by
// name, the four graph inputs, and the output head over the requested rows.
#include <string>
#include <string_view>

#include "models/decoder.hpp"

namespace lmx::models {

class GraphBuilder {
public:
    GraphBuilder(const gguf::File& f, DecoderGraph& out) : f_(f), g_(out.graph), c_(out.config), copies_(out.weight_copies) {}

    struct Inputs {
        graph::ValueId tokens, positions, seq_ids, output_rows;
    };
    Inputs add_inputs();

    // A weight with its expected row-major dims ([N, K] for a matrix: ggml stores [K, N]).
    graph::ValueId weight(const std::string& name, graph::Dims dims);
    // blk.<layer>.<suffix>
    graph::ValueId layer_weight(int layer, std::string_view suffix, graph::Dims dims);

    // x · wᵀ (+ bias) as a matmul node. A weight of a packable type is also repacked for
    // the packed GEMM when this CPU's kernels have one (kernels/packed_weights.hpp; ~1 s per GB);
    // the others are copied into huge pages (WeightMemory), as their rows are streamed too.
    graph::ValueId matmul(graph::ValueId x, graph::ValueId w, const std::string& name, graph::ValueId bias = -1);
    // gather the requested rows → final RMSNorm → output head (token_embd when tied).
    void add_logits(graph::ValueId x, graph::ValueId output_rows, graph::ValueId token_embd);

    // "l<layer>." for node names.
    static std::string layer_prefix(int layer);

protected:
    // wv's bytes copied into weight memory (kept by the DecoderGraph), the file's pages released.
    const void* copy_to_weight_memory(const graph::Value& wv);

    const gguf::File& f_;
    graph::Graph& g_;
    const DecoderConfig& c_;
    std::vector<WeightMemory>& copies_;
};

// The copy of weight wv (a [N, K] constant) repacked for the packed GEMM when this CPU's
// kernels have one for its type and shape, else nullptr (kernels/packed_weights.hpp).
std::shared_ptr<const kernels::PackedWeights> pack_weight(const graph::Value& wv);

// One builder per architecture family; each fills out.graph from f, out.config being read.
void build_llama(const gguf::File& f, DecoderGraph& out);   // llama, qwen2
void build_gemma3(const gguf::File& f, DecoderGraph& out);  // gemma3

}  // namespace lmx::models
