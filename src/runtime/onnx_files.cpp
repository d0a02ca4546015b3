#include "runtime/onnx_files.hpp"

#include "base/error.hpp"

namespace lmx {

namespace fs = std::filesystem;

static const char* const kGraphNames[] = {"onnx/model.onnx", "model.onnx"};

OnnxFiles locate_onnx(const fs::path& path) {
    if (fs::is_directory(path)) {
        for (const char* rel : kGraphNames)
            if (fs::exists(path / rel)) return {path / rel, path};
        fail(path.string(), " is not a model folder lmx reads: it holds no onnx/model.onnx or model.onnx (an ONNX export) and no model.safetensors (an HF encoder)");
    }
    fs::path dir = path.parent_path();
    if (!fs::exists(dir / "tokenizer.json") && dir.filename() == "onnx") dir = dir.parent_path();
    return {path, dir};
}

bool is_onnx_path(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const char* rel : kGraphNames)
            if (fs::exists(path / rel, ec)) return true;
        return false;
    }
    return path.extension() == ".onnx";
}

}  // namespace lmx
