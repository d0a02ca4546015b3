#include "runtime/model.hpp"

#include <chrono>
#include <cstdlib>
#include <sys/stat.h>

#include "base/error.hpp"
#include "base/mapped_file.hpp"

namespace lmx {

static constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";

std::string model_home() {
    if (const char* h = std::getenv("LMX_HOME"); h && *h) return h;
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + "/.cache/lmx/models";
}

std::string default_model_path() { return model_home() + "/" + kDefaultModelFile; }

const gguf::File& Model::file() const {
    if (!file_) fail(path_, " is an ONNX model; this needs a GGUF model");
    return *file_;
}

std::string Model::chat_template() const {
    return file_ ? file_->get_string("tokenizer.chat_template", "") : onnx_chat_template_;
}

size_t Model::weights_bytes() const {
    if (file_) return file_->file_size();
    size_t n = 0;
    for (const graph::Value& v : onnx_->graph.values()) {
        if (v.kind != graph::ValueKind::constant) continue;
        int64_t elements = 1;
        for (int64_t d : v.dims) elements *= d;
        n += dtype_row_bytes(v.dtype, elements);
    }
    return n;
}

std::shared_ptr<const Model> Model::load(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (path == default_model_path())
            fail("the default model is not installed at ", path, ": run `make run` or `scripts/setup.sh` to install it");
        fail("model file not found: ", path);
    }
    if (S_ISDIR(st.st_mode) || (path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0)) return load_onnx(path);
    const auto t0 = std::chrono::steady_clock::now();
    return build(std::make_unique<MappedFile>(path), t0);
}

std::shared_ptr<const Model> Model::load(std::unique_ptr<MappedFile> file) {
    return build(std::move(file), std::chrono::steady_clock::now());
}

std::shared_ptr<const Model> Model::build(std::unique_ptr<MappedFile> file, std::chrono::steady_clock::time_point t0) {
    const std::string path = file->path();
    std::shared_ptr<Model> m(new Model(path));
    m->file_.emplace(gguf::File::open(std::move(file)));
    m->decoder_ = models::build_decoder(*m->file_);
    m->tokenizer_ = Tokenizer::from_gguf(*m->file_);
    if (m->tokenizer_->n_vocab() != m->decoder_.config.n_vocab)
        fail(path, ": tokenizer has ", m->tokenizer_->n_vocab(), " tokens but the embedding has ", m->decoder_.config.n_vocab, " rows");
    m->load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return m;
}

}  // namespace lmx
