// lmx eval -m MODEL --ref REF -f TEXT: perplexity of both, KL divergence of the model's
// next-token distributions from the reference's (mean, p99, max) and top-1 agreement
// (runtime/eval.hpp): the acceptance gate for a quantized or converted model.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "runtime/eval.hpp"

namespace lmx::cli {

namespace {

struct EvalArgs {
    std::string model, ref, file;
    int64_t window = 256, max_tokens = 4096;
    int threads = 0;
    bool as_json = false;
};

void run_eval(const EvalArgs& a) {
    std::ifstream f(a.file, std::ios::binary);
    if (!f) fail("cannot read '", a.file, "'");
    std::ostringstream ss;
    ss << f.rdbuf();
    auto model = Model::load(a.model);
    auto ref = Model::load(a.ref);
    std::vector<int32_t> ids = model->tokenizer().encode(ss.str(), true, false);
    if (ref->tokenizer().encode(ss.str(), true, false) != ids)
        fail("the two models tokenize the text differently: compare models that share a tokenizer");
    if (static_cast<int64_t>(ids.size()) > a.max_tokens) ids.resize(static_cast<size_t>(a.max_tokens));
    SessionOptions so;
    so.n_threads = a.threads;
    so.n_ctx = a.window;
    Session sm(model, so), sr(ref, so);
    std::optional<Progress> progress;
    const EvalResult r = evaluate(sm, sr, ids, a.window, [&](size_t done, size_t total) {
        if (!progress) progress.emplace("evaluating", total);
        progress->update(done);
    });
    if (progress) progress->done();
    if (a.as_json) {
        const nlohmann::json j = {{"model", model->path()}, {"ref", ref->path()}, {"positions", r.positions}, {"window", a.window},
                                  {"ppl_model", r.ppl_model}, {"ppl_ref", r.ppl_ref}, {"kl_mean", r.kl_mean}, {"kl_p99", r.kl_p99},
                                  {"kl_max", r.kl_max}, {"top1", r.top1}};
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    std::printf("%lld positions in windows of %lld tokens\n", static_cast<long long>(r.positions), static_cast<long long>(a.window));
    std::printf("perplexity   model %.4f   ref %.4f   (ratio %.4f)\n", r.ppl_model, r.ppl_ref, r.ppl_model / r.ppl_ref);
    std::printf("KL(ref||model) mean %.5f   p99 %.5f   max %.5f nats\n", r.kl_mean, r.kl_p99, r.kl_max);
    std::printf("top-1 agreement %.2f%%\n", 100.0 * r.top1);
}

}  // namespace

void add_eval(CLI::App& app) {
    auto a = std::make_shared<EvalArgs>();
    CLI::App* c = app.add_subcommand("eval", "compare a model's predictions with a reference model's on a text (perplexity, KL, top-1)");
    c->add_option("-m,--model", a->model, "the model to judge (GGUF file or ONNX model)")->required();
    c->add_option("--ref", a->ref, "the reference model (e.g. the unquantized one)")->required();
    c->add_option("-f,--file", a->file, "the text")->required();
    c->add_option("-w,--window", a->window, "tokens per window (each read from position 0)")->check(CLI::Range(2, 1 << 20));
    c->add_option("--max-tokens", a->max_tokens, "use at most this many tokens of the text")->check(CLI::Range(2, 1 << 30));
    c->add_option("-t,--threads", a->threads, "threads (default: all cores)")->check(CLI::Range(0, 512));
    c->add_flag("--json", a->as_json, "print JSON");
    c->callback([a] { run_eval(*a); });
}

}  // namespace lmx::cli
