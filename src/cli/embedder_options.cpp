#include "cli/embedder_options.hpp"

namespace lmx::cli {

void add_embedder_options(CLI::App& cmd, EmbedderArgs& a) {
    cmd.add_option("-m,--model", a.model, "embedding model: a name under $LMX_HOME, a model folder, a BERT GGUF file or an ONNX encoder export")->capture_default_str();
    cmd.add_option("--pooling", a.pooling, "mean, cls or last (default: the model's sentence-transformers config)");
    auto* on = cmd.add_flag("--normalize", a.normalize, "L2-normalize the vectors (default: as the model says)");
    cmd.add_flag("--no-normalize", a.no_normalize, "do not L2-normalize the vectors")->excludes(on);
    cmd.add_option("--max-length", a.max_length, "tokens per text, longer ones are truncated (default: the model's)");
    cmd.add_option("-t,--threads", a.threads, "threads (default: all)");
    cmd.add_option("--batch-tokens", a.batch_tokens, "tokens per forward pass (whole texts; at least --max-length)")
        ->capture_default_str();
    cmd.add_flag("--f32", a.f32, "multiply in f32 even where the CPU has bf16 products (slower; vectors within 1e-4 cosine either way)");
}

std::unique_ptr<Embedder> load_embedder(const EmbedderArgs& a) {
    EmbedderOptions o;
    if (!a.pooling.empty()) o.pooling = parse_pooling(a.pooling);
    if (a.normalize || a.no_normalize) o.normalize = a.normalize;
    o.max_length = a.max_length;
    o.n_threads = a.threads;
    o.batch_tokens = a.batch_tokens;
    o.f32 = a.f32;
    return std::make_unique<Embedder>(embedding_model_path(a.model), o);
}

}  // namespace lmx::cli
