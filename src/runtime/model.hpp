#pragma once
// A loaded model: the mapped GGUF file and its decoder graph, or an ONNX
// decoder-with-past model folder (runtime/onnx_decoder.hpp), and its tokenizer.
// Immutable once loaded, so several sessions may share it.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "formats/gguf.hpp"
#include "models/decoder.hpp"
#include "models/onnx/onnx_import.hpp"
#include "runtime/onnx_decoder.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lmx {

class MappedFile;

class Model {
public:
    enum class Format { gguf, onnx };
    // A GGUF file, or an ONNX model: a .onnx file or its folder (transformers.js layout
    // DIR/onnx/model.onnx, or DIR/model.onnx) with tokenizer.json and config.json (or
    // genai_config.json) beside it.
    static std::shared_ptr<const Model> load(const std::string& path);
    // From a file already read or mapped, e.g. bytes in memory (path() is its name).
    static std::shared_ptr<const Model> load(std::unique_ptr<MappedFile> file);

    const std::string& path() const { return path_; }
    Format format() const { return onnx_ ? Format::onnx : Format::gguf; }
    const gguf::File& file() const;  // GGUF models only: throws naming the model otherwise
    const models::DecoderConfig& config() const { return decoder_.config; }
    const graph::Graph& graph() const { return onnx_ ? onnx_->graph : decoder_.graph; }
    const OnnxDecoderIO& onnx_io() const { return onnx_io_; }  // ONNX models only
    std::string chat_template() const;  // "" when the model has none
    size_t weights_bytes() const;
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    double load_ms() const { return load_ms_; }

private:
    explicit Model(std::string path) : path_(std::move(path)) {}
    // load_ms counts from t0, so reading or mapping the file is part of it.
    static std::shared_ptr<const Model> build(std::unique_ptr<MappedFile> file, std::chrono::steady_clock::time_point t0);
    static std::shared_ptr<const Model> load_onnx(const std::string& path);
    std::string path_;
    std::optional<gguf::File> file_;
    models::DecoderGraph decoder_;  // ONNX models: only its config
    std::unique_ptr<models::OnnxGraph> onnx_;
    OnnxDecoderIO onnx_io_;
    std::string onnx_chat_template_;
    std::unique_ptr<Tokenizer> tokenizer_;
    double load_ms_ = 0;
};

// The model file used when none is named: $LMX_HOME (default ~/.cache/lmx/models)
// + the default model's file name.
std::string default_model_path();
std::string model_home();

}  // namespace lmx
