#pragma once
// Patterns of plain ONNX nodes the importer replaces by one op, found before import: a
// transposed MatMul b, an exported SwiGLU (gate · sigmoid(gate) · up: three nodes), RoPE
// written as rotate_half (seven), and a dense layer, MatMul then a bias Add, with the
// exact GELU written out after it (five more). Only where the pattern's values have no
// other reader, and where the fused op is sure to compute what the nodes did (same dims,
// f32, the same roundings but for the SIMD exp and erf).
#include <map>
#include <string>
#include <vector>

#include "formats/onnx.hpp"
#include "ops/ops.hpp"

namespace lmx::models::onnx_import {

struct Fusion {
    ops::OpPtr op;                     // null for a dense layer: made at import, see below
    std::vector<std::string> inputs;   // value names
    std::vector<std::string> outputs;  // the last node's
    std::vector<size_t> absorbs;       // the pattern's other nodes
    // A dense layer, inputs x, w, bias: its op is made at import, once w's value is known
    // (a constant: ops::dense over its panels; else the MatMul, Add and GELU as nodes).
    bool dense = false, gelu = false;
};

// Transpose nodes swapping the last two dims whose only reader is a MatMul's b: the
// MatMul reads the untransposed tensor instead (matmul with trans_b), so attention's
// k-transpose of the whole cache is never copied. Per such MatMul node, the index of the
// Transpose it absorbs.
std::map<size_t, size_t> transposes_into_matmul(const onnx::Graph& g);

// Per node index where a fused op goes (the pattern's last node), the op; absorbed[i]
// is set for every other node of a pattern (nodes already absorbed are left alone),
// which the import then skips.
std::map<size_t, Fusion> find_fusions(const onnx::Graph& g, std::vector<bool>& absorbed);

}  // namespace lmx::models::onnx_import
