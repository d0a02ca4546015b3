#pragma once
// The options every embedding command shares (-m, --pooling, --normalize, --max-length,
// -t) and the Embedder they describe.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "runtime/embedder.hpp"

namespace lmx::cli {

struct EmbedderArgs {
    std::string model = "all-minilm-l6-v2";  // a name installed under $LMX_HOME, or a folder
    std::string pooling;                     // "" = the model's
    bool normalize = false, no_normalize = false;  // neither: as the model folder says
    int max_length = 0;
    int threads = 0;
    int64_t batch_tokens = 4096;
    bool f32 = false;
};

void add_embedder_options(CLI::App& cmd, EmbedderArgs& a);
std::unique_ptr<Embedder> load_embedder(const EmbedderArgs& a);

}  // namespace lmx::cli
