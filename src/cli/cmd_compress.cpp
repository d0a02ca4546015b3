// lmx compress / lmx decompress: lossless compression with the model's next-token
// probabilities (runtime/compressor.hpp, docs/compression-format.md).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "runtime/compressor.hpp"

namespace lmx::cli {

namespace {

struct CompressArgs {
    std::string model, in, out;
    uint32_t chunk_bytes = 4096;
    int64_t max_tokens = 0;
    int workers = 0, threads = 0;
    bool quiet = false;
};

std::string read_input(const std::string& path) {
    std::ostringstream ss;
    if (path.empty() || path == "-") {
        ss << std::cin.rdbuf();
        return ss.str();
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("cannot open ", path, " for reading");
    ss << f.rdbuf();
    return ss.str();
}

void write_output(const std::string& path, const std::string& data) {
    if (path.empty() || path == "-") {
        if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0)
            fail("cannot write to stdout");
        return;
    }
    std::ofstream f(path, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!f.flush()) fail("cannot write ", path);
}

// Progress with bytes/s on stderr when it is a terminal (the coder runs at KB/s).
std::function<void(uint64_t, uint64_t)> progress_line(const char* what, bool quiet) {
    if (quiet || !::isatty(2)) return {};
    auto start = std::chrono::steady_clock::now();
    return [what, start](uint64_t done, uint64_t total) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "\r%s: %llu / %llu bytes, %.0f bytes/s ", what, static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total), s > 0 ? static_cast<double>(done) / s : 0.0);
    };
}

CompressOptions options(const CompressArgs& a, const char* what) {
    CompressOptions o;
    o.chunk_bytes = a.chunk_bytes;
    o.max_positions = a.max_tokens;
    o.workers = a.workers;
    o.threads_per_worker = a.threads;
    o.progress = progress_line(what, a.quiet);
    return o;
}

void run(const CompressArgs& a, bool compress) {
    const std::string in = read_input(a.in);
    if (!compress) parse_container(in);  // garbage or a truncated file fails here, before the model loads
    Compressor c(Model::load(a.model.empty() ? default_model_path() : a.model));
    const auto t0 = std::chrono::steady_clock::now();
    const std::string out = compress ? c.compress(in, options(a, "compress")) : c.decompress(in, options(a, "decompress"));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    write_output(a.out, out);
    if (!a.quiet) {
        const size_t original = compress ? in.size() : out.size(), packed = compress ? out.size() : in.size();
        std::fprintf(stderr, "%s%s %zu -> %zu bytes (%.3f bits per byte) in %.2f s, %.0f bytes/s\n", ::isatty(2) ? "\n" : "",
                     compress ? "compressed" : "decompressed", in.size(), out.size(),
                     original ? 8.0 * static_cast<double>(packed) / static_cast<double>(original) : 0.0, s,
                     s > 0 ? static_cast<double>(original) / s : 0.0);
    }
}

void add_common(CLI::App* c, CompressArgs& a) {
    c->add_option("-m,--model", a.model, "GGUF model file (default: the installed SmolLM2-135M-Instruct); "
                                          "decompression needs the very same file");
    c->add_option("IN", a.in, "input file (default: stdin)");
    c->add_option("-o,--output", a.out, "output file (default: stdout)");
    c->add_option("-j,--workers", a.workers, "chunks coded in parallel (default: one per core)")->check(CLI::Range(0, 256));
    c->add_option("-t,--threads", a.threads, "threads per worker (default: cores / workers)")->check(CLI::Range(0, 256));
    c->add_flag("-q,--quiet", a.quiet, "no progress or summary on stderr");
}

}  // namespace

void add_compress(CLI::App& app) {
    auto a = std::make_shared<CompressArgs>();
    CLI::App* c = app.add_subcommand("compress", "compress a file losslessly with the model's predictions");
    add_common(c, *a);
    c->add_option("--chunk", a->chunk_bytes, "chunk size in bytes: each chunk is coded independently (more context "
                                              "compresses better, smaller chunks run in parallel and decode faster)")
        ->check(CLI::Range(16, static_cast<int>(kMaxChunkBytes)));
    c->add_option("--max-tokens", a->max_tokens, "a chunk of more tokens is cut in two (default and at most: the model's "
                                                 "context; e.g. --chunk 30000 takes SmolLM2's whole 8192-token context)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
    c->callback([a] { run(*a, true); });
    auto d = std::make_shared<CompressArgs>();
    CLI::App* dc = app.add_subcommand("decompress", "restore a file made by lmx compress (with the same model)");
    add_common(dc, *d);
    dc->callback([d] { run(*d, false); });
}

}  // namespace lmx::cli
