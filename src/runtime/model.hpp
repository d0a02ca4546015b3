#pragma once
// A loaded model: the mapped GGUF file, its decoder graph and its tokenizer.
// Immutable once loaded, so several sessions may share it.
#include <chrono>
#include <memory>
#include <string>

#include "formats/gguf.hpp"
#include "models/decoder.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lmx {

class MappedFile;

class Model {
public:
    static std::shared_ptr<const Model> load(const std::string& path);
    // From a file already read or mapped, e.g. bytes in memory (path() is its name).
    static std::shared_ptr<const Model> load(std::unique_ptr<MappedFile> file);

    const std::string& path() const { return path_; }
    const gguf::File& file() const { return file_; }
    const models::DecoderConfig& config() const { return decoder_.config; }
    const graph::Graph& graph() const { return decoder_.graph; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    double load_ms() const { return load_ms_; }

private:
    Model(std::string path, gguf::File file);
    // load_ms counts from t0, so reading or mapping the file is part of it.
    static std::shared_ptr<const Model> build(std::unique_ptr<MappedFile> file, std::chrono::steady_clock::time_point t0);
    std::string path_;
    gguf::File file_;
    models::DecoderGraph decoder_;
    std::unique_ptr<Tokenizer> tokenizer_;
    double load_ms_ = 0;
};

// The model file used when none is named: $LMX_HOME (default ~/.cache/lmx/models)
// + the default model's file name.
std::string default_model_path();
std::string model_home();

}  // namespace lmx
