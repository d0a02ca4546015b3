// `lmx export MODEL.gguf OUT_DIR`: the decoder as an ONNX decoder-with-past graph in
// transformers.js's folder layout (OUT_DIR/onnx/model.onnx, config.json,
// generation_config.json; see models/onnx/decoder_export.hpp) with the GGUF's tokenizer
// as tokenizer.json and tokenizer_config.json (tokenizer/hf_export.hpp).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "formats/gguf.hpp"
#include "models/onnx/decoder_export.hpp"
#include "tokenizer/hf_export.hpp"

namespace lmx::cli {

namespace fs = std::filesystem;

static void write_text(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    if (!f) fail("cannot write ", p.string());
}

void add_export(CLI::App& app) {
    auto* cmd = app.add_subcommand("export", "Export a GGUF decoder as an ONNX decoder-with-past model folder (fp32)");
    static std::string model, out_dir;
    cmd->add_option("model", model, "GGUF model file (llama, SmolLM2, qwen2)")->required();
    cmd->add_option("out_dir", out_dir,
                    "Output folder (created): onnx/model.onnx, config.json, generation_config.json, genai_config.json, tokenizer.json, "
                    "tokenizer_config.json")
        ->required();
    cmd->callback([] {
        const gguf::File f = gguf::File::open(model);
        std::optional<Progress> progress;
        models::ExportOptions opt;
        opt.progress = [&](size_t done, size_t total) {
            if (!progress) progress.emplace("converting weights", total);
            progress->update(done);
        };
        const onnx::Model m = models::export_decoder(f, opt);
        if (progress) progress->done();
        fs::create_directories(fs::path(out_dir) / "onnx");
        // Past 2 GB a protobuf cannot hold the weights: they go to model.onnx_data beside it.
        size_t bytes = 0;
        for (const onnx::Tensor& t : m.graph.initializers) bytes += t.nbytes();
        onnx::WriteOptions wo;
        if (bytes > (size_t{1} << 31) - (size_t{64} << 20)) {
            wo.external_threshold = 1024;
            wo.external_file = "model.onnx_data";
        }
        const fs::path onnx_path = fs::path(out_dir) / "onnx" / "model.onnx";
        std::fprintf(stderr, "writing %s (%.1f MB of weights)\n", onnx_path.c_str(), static_cast<double>(bytes) / 1e6);
        onnx::save(m, onnx_path.string(), wo);
        write_text(fs::path(out_dir) / "config.json", models::export_config_json(f));
        write_text(fs::path(out_dir) / "generation_config.json", models::export_generation_config_json(f));
        write_text(fs::path(out_dir) / "genai_config.json", models::export_genai_config_json(f, "onnx/model.onnx"));
        write_text(fs::path(out_dir) / "tokenizer.json", hf_tokenizer_json(f));
        write_text(fs::path(out_dir) / "tokenizer_config.json", hf_tokenizer_config_json(f));
        std::printf("%s\n", out_dir.c_str());
    });
}

}  // namespace lmx::cli
