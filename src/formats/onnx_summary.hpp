#pragma once
// What `lmx inspect model.onnx` reports, as JSON: inputs/outputs with dtypes and
// symbolic dims, opset imports, producer, the op histogram over every graph
// (domain-qualified: "com.microsoft::MatMulNBits"), initializer count and bytes by
// dtype, external data files, and warnings about shapes that limit batching.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/onnx.hpp"

namespace lmx::onnx {

// "float16[batch, seq, 2048]"; unknown dims print as "?", an unknown rank as "[...]".
std::string type_string(const TypeProto& t);

// Warnings about static shapes: an input whose first dim is a fixed 1 (batch size 1
// forced), and logits whose batch dim differs from input_ids' when both exist.
std::vector<std::string> shape_warnings(const Model& m);

nlohmann::json summarize(const Model& m);

}  // namespace lmx::onnx
