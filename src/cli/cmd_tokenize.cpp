// lmx tokenize / lmx detokenize: text <-> token ids with a model's tokenizer, without
// loading its weights. MODEL is a GGUF file, a tokenizer.json, or a folder holding one.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "formats/gguf.hpp"
#include "runtime/model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lmx::cli {

namespace {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& arg) {
    const std::string path = arg.empty() ? default_model_path() : arg;
    if (std::filesystem::is_directory(path)) return Tokenizer::from_hf_json((std::filesystem::path(path) / "tokenizer.json").string());
    if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return Tokenizer::from_hf_json(path);
    return Tokenizer::from_gguf(gguf::File::open(path));
}

std::string read_all(std::istream& in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct TokenizeArgs {
    std::string model, file, text;
    bool no_special = false, pieces = false, lines = false, stats = false;
};

void print_ids(const Tokenizer& tok, const std::vector<int32_t>& ids, bool pieces, std::string& out) {
    if (pieces) {
        for (int32_t id : ids) {
            const nlohmann::json piece = std::string(tok.token_text(id));
            out += std::to_string(id) + ' ' + piece.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
        }
        return;
    }
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ' ';
        out += std::to_string(ids[i]);
    }
    out += '\n';
}

void run_tokenize(const TokenizeArgs& a) {
    const auto tok = load_tokenizer(a.model);
    std::string text = a.text;
    if (!a.file.empty()) {
        if (a.file == "-") {
            text = read_all(std::cin);
        } else {
            std::ifstream in(a.file, std::ios::binary);
            if (!in) fail(a.file, ": cannot be read");
            text = read_all(in);
        }
    }
    const bool special = !a.no_special;
    std::string out;
    size_t n_tokens = 0, n_texts = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto one = [&](std::string_view s) {
        const std::vector<int32_t> ids = tok->encode(s, special, special);
        n_tokens += ids.size();
        ++n_texts;
        print_ids(*tok, ids, a.pieces, out);
    };
    if (a.lines) {
        size_t at = 0;
        while (at < text.size()) {
            const size_t nl = text.find('\n', at);
            const size_t end = nl == std::string::npos ? text.size() : nl;
            one(std::string_view(text).substr(at, end - at));
            at = end + 1;
        }
    } else {
        one(text);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (a.stats)
        std::fprintf(stderr, "lmx tokenize: %zu texts, %zu bytes, %zu tokens in %.4f s (%.2f MB/s, one thread)\n", n_texts,
                     text.size(), n_tokens, secs, secs > 0 ? static_cast<double>(text.size()) / secs / 1e6 : 0.0);
}

struct DetokenizeArgs {
    std::string model;
    std::vector<int32_t> ids;
    bool skip_special = false;
};

void run_detokenize(const DetokenizeArgs& a) {
    const auto tok = load_tokenizer(a.model);
    const std::string text = tok->decode(a.ids, a.skip_special);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
}

}  // namespace

void add_tokenize(CLI::App& app) {
    auto args = std::make_shared<TokenizeArgs>();
    CLI::App* cmd = app.add_subcommand("tokenize", "print the token ids of a text");
    cmd->add_option("-m,--model", args->model, "GGUF file, tokenizer.json or a folder with one (default: the default model)");
    cmd->add_option("-f,--file", args->file, "read the text from a file ('-' for stdin)");
    cmd->add_option("text", args->text, "the text (when no -f)");
    cmd->add_flag("--no-special", args->no_special, "add no BOS/EOS and treat special-token text as plain text");
    cmd->add_flag("--pieces", args->pieces, "print one token per line: id and its vocabulary string");
    cmd->add_flag("--lines", args->lines, "tokenize each line of the input on its own, one output line each");
    cmd->add_flag("--stats", args->stats, "print texts, bytes, tokens and encode time (not loading) to stderr");
    cmd->callback([args] { run_tokenize(*args); });

    auto dargs = std::make_shared<DetokenizeArgs>();
    CLI::App* dcmd = app.add_subcommand("detokenize", "print the text of token ids");
    dcmd->add_option("-m,--model", dargs->model, "GGUF file, tokenizer.json or a folder with one (default: the default model)");
    dcmd->add_option("ids", dargs->ids, "token ids")->required();
    dcmd->add_flag("--skip-special", dargs->skip_special, "leave out control / special tokens");
    dcmd->callback([dargs] { run_detokenize(*dargs); });
}

}  // namespace lmx::cli
