#pragma once
// Lowers an ONNX model to the one IR (graph/ir.hpp): initializers become constants
// (views into the mapped file when aligned), Constant nodes constants too, every other
// node one op from the family tables (node_context.hpp). The graph is dynamic: shapes
// are inferred as it runs. A model using ops lmx lacks fails to import with the full
// list of them, not just the first.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/onnx.hpp"
#include "graph/ir.hpp"

namespace lmx::models {

struct OnnxGraph {
    onnx::Model file;  // owns the mapped bytes the constants point into
    graph::Graph graph;
    std::vector<std::vector<uint8_t>> owned;  // constant bytes that had to be copied or converted
};

struct ImportOptions {
    // Dense layers (a MatMul by constant weights and a bias Add, fusions.hpp) also get bf16
    // panels, which ops::dense multiplies where the CPU has native bf16 products: twice
    // the f32 rate, results within bf16 rounding of f32's.
    bool bf16 = false;
};

std::unique_ptr<OnnxGraph> import_onnx(onnx::Model model, const ImportOptions& opts = {});

// The ops of the main graph lmx has no importer for ("com.microsoft.X" outside the
// standard domain), with their node counts.
std::map<std::string, int> unsupported_ops(const onnx::Graph& g);

}  // namespace lmx::models
