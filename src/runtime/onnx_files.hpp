#pragma once
// Where an ONNX model's files are: the .onnx graph and the folder holding tokenizer.json
// and the configs, for the layouts Hugging Face repos use (optimum, transformers.js:
// onnx/model.onnx beside the tokenizer one level up; onnxruntime-genai: model.onnx in
// the folder itself).
#include <filesystem>
#include <string>

namespace lmx {

struct OnnxFiles {
    std::filesystem::path graph;  // the .onnx file
    std::filesystem::path dir;    // where tokenizer.json and config.json are looked for
};

// path: a folder holding onnx/model.onnx or model.onnx, or the .onnx file itself.
// Throws lmx::Error for a folder with neither.
OnnxFiles locate_onnx(const std::filesystem::path& path);

// A folder with onnx/model.onnx or model.onnx, or a file named *.onnx.
bool is_onnx_path(const std::filesystem::path& path);

}  // namespace lmx
