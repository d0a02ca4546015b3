// `lmx quantize IN.onnx OUT.onnx`: 4-bit weights (MatMulNBits, and GatherBlockQuantized
// with --embeddings) as onnxruntime's MatMulNBitsQuantizer writes them, see
// models/onnx/quantize.hpp.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "formats/onnx.hpp"
#include "models/onnx/quantize.hpp"

namespace lmx::cli {

namespace fs = std::filesystem;

void add_quantize(CLI::App& app) {
    auto* cmd = app.add_subcommand("quantize", "Quantize an ONNX model's MatMul weights to 4 bits (onnxruntime's MatMulNBits)");
    static std::string in_path, out_path;
    static models::QuantizeOptions opt;
    static int64_t accuracy_level = 0;
    cmd->add_option("model", in_path, "ONNX model to quantize")->required();
    cmd->add_option("output", out_path, "Quantized ONNX model to write")->required();
    cmd->add_option("--bits", opt.bits, "Bits per weight (4)")->capture_default_str();
    cmd->add_option("--block", opt.block_size, "Weights per scale: 16, 32, 64 or 128")->capture_default_str();
    cmd->add_flag("--symmetric", opt.symmetric, "Scales only (zero point 8) instead of scales and zero points");
    static CLI::Option* level_opt =
        cmd->add_option("--accuracy-level", accuracy_level, "MatMulNBits accuracy_level attribute, 0-4 (default: not written)");
    cmd->add_flag("--embeddings", opt.embeddings, "Also quantize Gather tables (GatherBlockQuantized)");
    cmd->callback([] {
        if (!fs::exists(in_path)) fail("cannot open ", in_path, ": no such file");
        if (level_opt->count() > 0) opt.accuracy_level = accuracy_level;
        onnx::Model in = [&] {
            try {
                return onnx::Model::open(in_path);
            } catch (const Error& e) {
                fail(in_path, " is not a readable ONNX model: ", e.what());
            }
        }();
        std::optional<Progress> progress;
        opt.progress = [&](size_t done, size_t total) {
            if (!progress) progress.emplace("quantizing weights", total);
            progress->update(done);
        };
        const auto start = std::chrono::steady_clock::now();
        const onnx::Model m = models::quantize(std::move(in), opt);
        if (progress) progress->done();
        size_t bytes = 0;
        for (const onnx::Tensor& t : m.graph.initializers) bytes += t.nbytes();
        // Past 2 GB a protobuf cannot hold the weights: they go to <output>.data beside it.
        onnx::WriteOptions wo;
        if (bytes > (size_t{1} << 31) - (size_t{64} << 20)) wo.external_threshold = 1024;
        onnx::save(m, out_path, wo);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "wrote %s (%.1f MB of weights) in %.1f s\n", out_path.c_str(), static_cast<double>(bytes) / 1e6, secs);
    });
}

}  // namespace lmx::cli
