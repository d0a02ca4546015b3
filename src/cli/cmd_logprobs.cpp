// lmx logprobs: the log-probability the model gives each token of a text, given the
// tokens before it (the primitive behind lmx compress), with the top alternatives.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "runtime/logprobs.hpp"

namespace lmx::cli {

namespace {

struct LogprobsArgs {
    std::string model, text, file;
    int top = 0, threads = 0;
    bool as_json = false, deterministic = false;
};

void run_logprobs(const LogprobsArgs& a) {
    std::string text = a.text;
    if (!a.file.empty()) {
        std::ifstream f(a.file, std::ios::binary);
        if (!f) fail("cannot read '", a.file, "'");
        std::ostringstream ss;
        ss << f.rdbuf();
        text = ss.str();
    }
    auto model = Model::load(a.model.empty() ? default_model_path() : a.model);
    const Tokenizer& tok = model->tokenizer();
    std::vector<int32_t> ids = tok.encode(text, true, false);
    if (ids.empty()) fail("the text has no tokens");
    SessionOptions so;
    so.n_threads = a.threads;
    so.n_ctx = static_cast<int64_t>(ids.size());
    so.deterministic = a.deterministic;
    Session s(model, so);

    const TokenLogprobs lp = token_logprobs(s, ids, a.top);

    nlohmann::json rows = nlohmann::json::array();
    double total_bits = 0;
    size_t scored_bytes = 0;
    auto show = [](const std::string& b) { return nlohmann::json(b).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
    if (!a.as_json) std::printf("%5s %7s %10s  %-20s %s\n", "pos", "id", "logprob", "token", a.top > 0 ? "top" : "");
    for (size_t i = 0; i + 1 < ids.size(); i++) {
        const int32_t id = ids[i + 1];
        const std::string bytes = tok.token_bytes(id);
        total_bits -= lp.logprob[i] / std::log(2.0);
        scored_bytes += bytes.size();
        const size_t row = i * static_cast<size_t>(lp.top);
        if (a.as_json) {
            nlohmann::json alts = nlohmann::json::array();
            for (size_t j = row; j < row + static_cast<size_t>(lp.top); j++)
                alts.push_back({{"id", lp.top_ids[j]}, {"token", tok.token_bytes(lp.top_ids[j])}, {"logprob", lp.top_logprob[j]}});
            rows.push_back({{"pos", i + 1}, {"id", id}, {"token", bytes}, {"logprob", lp.logprob[i]}, {"top", alts}});
            continue;
        }
        std::string alts;
        for (size_t j = row; j < row + static_cast<size_t>(lp.top); j++) {
            char num[32];
            std::snprintf(num, sizeof num, " %.3f  ", lp.top_logprob[j]);
            alts += show(tok.token_bytes(lp.top_ids[j]));
            alts += num;
        }
        std::printf("%5zu %7d %10.4f  %-20s %s\n", i + 1, id, lp.logprob[i], show(bytes).c_str(), alts.c_str());
    }
    const double bpb = scored_bytes ? total_bits / static_cast<double>(scored_bytes) : 0.0;
    if (a.as_json) {
        const nlohmann::json j = {{"model", model->path()}, {"first_token", ids[0]}, {"tokens", rows},
                                  {"total_bits", total_bits}, {"scored_bytes", scored_bytes}, {"bits_per_byte", bpb}};
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return;
    }
    std::printf("%zu tokens scored, %.1f bits, %.4f bits per byte\n", ids.size() - 1, total_bits, bpb);
}

}  // namespace

void add_logprobs(CLI::App& app) {
    auto a = std::make_shared<LogprobsArgs>();
    CLI::App* c = app.add_subcommand("logprobs", "per-token log-probabilities of a text under the model");
    c->add_option("-m,--model", a->model, "GGUF model file (default: the installed SmolLM2-135M-Instruct)");
    auto* text = c->add_option("TEXT", a->text, "the text");
    auto* file = c->add_option("-f,--file", a->file, "read the text from a file");
    text->excludes(file);
    c->add_option("--top", a->top, "also show the K most likely tokens at each position")->check(CLI::Range(0, 100));
    c->add_option("-t,--threads", a->threads, "threads (default: all cores)")->check(CLI::Range(0, 512));
    c->add_flag("--json", a->as_json, "print JSON");
    c->add_flag("--deterministic", a->deterministic, "deterministic mode (the probabilities lmx compress codes with)");
    c->callback([a] {
        if (a->text.empty() && a->file.empty()) fail("give a TEXT or -f FILE");
        run_logprobs(*a);
    });
}

}  // namespace lmx::cli
