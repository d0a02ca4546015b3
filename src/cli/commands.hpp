#pragma once
// Each subcommand registers its options on the CLI11 app and runs when chosen.
#include <CLI/CLI.hpp>

namespace lmx::cli {

void add_generate(CLI::App& app);
void add_inspect(CLI::App& app);
void add_bench(CLI::App& app);
void add_chat(CLI::App& app);
void add_tokenize(CLI::App& app);  // tokenize and detokenize
void add_serve(CLI::App& app);
void add_embed(CLI::App& app);
void add_index(CLI::App& app);  // index add and search
void add_compress(CLI::App& app);  // compress and decompress
void add_logprobs(CLI::App& app);
void add_export(CLI::App& app);  // GGUF -> ONNX decoder-with-past
void add_eval(CLI::App& app);    // model vs reference: perplexity, KL, top-1
void add_quantize(CLI::App& app);  // ONNX MatMul weights -> 4-bit MatMulNBits

}  // namespace lmx::cli
