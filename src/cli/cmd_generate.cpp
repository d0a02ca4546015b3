#include <cstdio>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/sampling_options.hpp"
#include "runtime/generator.hpp"

namespace lmx::cli {

namespace {

struct GenerateArgs {
    std::string model, prompt, prompt_file;
    int n_predict = 128, threads = 0;
    int64_t ctx = 2048;
    GenerateOptions opts;
};

void run_generate(const GenerateArgs& a) {
    std::string prompt = a.prompt;
    if (!a.prompt_file.empty()) {
        FILE* f = std::fopen(a.prompt_file.c_str(), "rb");
        if (!f) fail("cannot read prompt file '", a.prompt_file, "'");
        char buf[65536];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) prompt.append(buf, n);
        std::fclose(f);
    }
    auto model = Model::load(a.model.empty() ? default_model_path() : a.model);
    Session session(model, {a.threads, a.ctx, 1});
    GenerateOptions opts = a.opts;
    opts.max_tokens = a.n_predict;
    GenerateResult r = generate(session, prompt, opts, [](std::string_view s) {
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
        return true;
    });
    std::printf("\n");
    std::fflush(stdout);
    const double pp = r.prompt_tokens.size() / (r.prompt_ms / 1000.0);
    const double tg = r.tokens.size() > 0 ? r.tokens.size() / (r.generate_ms / 1000.0) : 0.0;
    std::fprintf(stderr,
                 "lmx: prompt %zu tokens in %.1f ms (%.1f tok/s), generated %zu tokens in %.1f ms (%.1f tok/s), "
                 "finish %s; %d threads, %.*s kernels, load %.1f ms\n",
                 r.prompt_tokens.size(), r.prompt_ms, pp, r.tokens.size(), r.generate_ms, tg, r.finish_reason.c_str(),
                 session.n_threads(), static_cast<int>(session.isa().size()), session.isa().data(), model->load_ms());
}

}  // namespace

void add_generate(CLI::App& app) {
    auto a = std::make_shared<GenerateArgs>();
    CLI::App* c = app.add_subcommand("generate", "continue a prompt, streaming the text to stdout");
    c->add_option("-m,--model", a->model, "GGUF model file (default: the installed SmolLM2-135M-Instruct)");
    auto* p = c->add_option("-p,--prompt", a->prompt, "prompt text");
    auto* pf = c->add_option("-f,--file", a->prompt_file, "read the prompt from a file");
    p->excludes(pf);
    c->add_option("-n,--n-predict", a->n_predict, "maximum tokens to generate")->check(CLI::Range(0, 1 << 20));
    c->add_option("-c,--ctx-size", a->ctx, "context size in tokens")->check(CLI::Range(int64_t{8}, int64_t{1} << 20));
    c->add_option("-t,--threads", a->threads, "threads (default: all cores)")->check(CLI::Range(0, 512));
    add_sampling_options(c, a->opts.sampling);
    c->add_option("--stop", a->opts.stop, "stop before this string (repeatable)");
    c->add_option("-b,--batch-size", a->opts.n_batch, "prompt tokens per forward pass")->check(CLI::Range(1, 65536));
    c->callback([a, p, pf] {
        if (p->count() == 0 && pf->count() == 0) throw CLI::RequiredError("--prompt or --file");
        run_generate(*a);
    });
}

}  // namespace lmx::cli
