// lmx embed: texts -> vectors, one JSON line per text on stdout:
//   {"index": 0, "embedding": [0.0123, ...]}
// Texts come from the arguments or, with -f FILE ("-" for stdin), one per line.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/embedder_options.hpp"

namespace lmx::cli {

namespace {

struct EmbedArgs {
    EmbedderArgs model;
    std::vector<std::string> texts;
    std::string file;
};

std::vector<std::string> read_lines(const std::string& file) {
    std::ifstream f;
    if (file != "-") {
        f.open(file, std::ios::binary);
        if (!f) fail(file, ": cannot be read");
    }
    std::istream& in = file == "-" ? std::cin : f;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
    }
    return lines;
}

void run_embed(const EmbedArgs& a) {
    std::vector<std::string> texts = a.texts;
    if (!a.file.empty()) {
        const std::vector<std::string> lines = read_lines(a.file);
        texts.insert(texts.end(), lines.begin(), lines.end());
    }
    if (texts.empty()) fail("nothing to embed: give texts as arguments or -f FILE");
    const auto embedder = load_embedder(a.model);
    const auto t0 = std::chrono::steady_clock::now();
    const auto vectors = embedder->embed(texts, [&](size_t i, size_t n) {
        std::fprintf(stderr, "lmx: warning: text %zu has %zu tokens; truncated to --max-length %d\n", i, n, embedder->max_length());
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = 0; i < vectors.size(); i++) {
        const nlohmann::json line = {{"index", i}, {"embedding", vectors[i]}};
        std::fputs((line.dump() + "\n").c_str(), stdout);
    }
    std::fprintf(stderr, "lmx: %zu texts, %d dims, model %s, %.1f texts/s, %d threads\n", texts.size(), embedder->dims(),
                 embedder->model_id().c_str(), static_cast<double>(texts.size()) / s, embedder->n_threads());
}

}  // namespace

void add_embed(CLI::App& app) {
    auto a = std::make_shared<EmbedArgs>();
    CLI::App* cmd = app.add_subcommand("embed", "texts -> embedding vectors (JSON lines on stdout)");
    add_embedder_options(*cmd, a->model);
    cmd->add_option("texts", a->texts, "texts to embed");
    cmd->add_option("-f,--file", a->file, "embed each line of FILE ('-' for stdin)");
    cmd->callback([a] { run_embed(*a); });
}

}  // namespace lmx::cli
