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

std::unique_ptr<OnnxGraph> import_onnx(onnx::Model model);

// The ops of the main graph lmx has no importer for ("com.microsoft.X" outside the
// standard domain), with their node counts.
std::map<std::string, int> unsupported_ops(const onnx::Graph& g);

}  // namespace lmx::models
