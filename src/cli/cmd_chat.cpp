// lmx chat: an interactive conversation with the model's own chat template. Reads one
// user message per line from stdin (a terminal or a pipe), streams each reply, keeps
// the history and reuses the KV cache for the part of the conversation already decoded.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/sampling_options.hpp"
#include "runtime/chat.hpp"

namespace lmx::cli {

namespace {

struct ChatArgs {
    std::string model, system;
    int n_predict = 512, threads = 0;
    int64_t ctx = 4096;
    GenerateOptions opts;
};

void run_chat(const ChatArgs& a) {
    auto model = Model::load(a.model.empty() ? default_model_path() : a.model);
    Session session(model, {a.threads, a.ctx, 1});
    ChatSession chat(session, a.system);
    GenerateOptions opts = a.opts;
    opts.max_tokens = a.n_predict;
    const bool interactive = isatty(STDIN_FILENO) != 0;
    if (interactive) std::fprintf(stderr, "lmx chat: type a message; /reset starts over, /exit (or Ctrl-D) quits\n");
    std::string line;
    for (;;) {
        if (interactive) {
            std::fprintf(stdout, "> ");
            std::fflush(stdout);
        }
        if (!std::getline(std::cin, line)) break;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "/exit" || line == "/quit") break;
        if (line == "/reset") {
            chat.reset();
            std::fprintf(stderr, "lmx: conversation reset\n");
            continue;
        }
        if (line.empty()) continue;
        const ChatTurn t = chat.send(line, opts, [](std::string_view s) {
            std::fwrite(s.data(), 1, s.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        std::printf("\n");
        std::fflush(stdout);
        const GenerateResult& r = t.result;
        const size_t decoded = r.prompt_tokens.size() - t.reused_tokens;
        std::fprintf(stderr,
                     "lmx: prompt %zu tokens (%zu cached, %zu decoded in %.1f ms), reply %zu tokens in %.1f ms (%.1f tok/s), finish %s\n",
                     r.prompt_tokens.size(), t.reused_tokens, decoded, r.prompt_ms, r.tokens.size(), r.generate_ms,
                     r.tokens.empty() ? 0.0 : r.tokens.size() / (r.generate_ms / 1000.0), r.finish_reason.c_str());
    }
}

}  // namespace

void add_chat(CLI::App& app) {
    auto a = std::make_shared<ChatArgs>();
    CLI::App* c = app.add_subcommand("chat", "chat with the model using its own chat template (reads stdin line by line)");
    c->add_option("-m,--model", a->model, "GGUF model file (default: the installed SmolLM2-135M-Instruct)");
    c->add_option("--system", a->system, "system prompt that opens the conversation");
    c->add_option("-n,--n-predict", a->n_predict, "maximum tokens per reply")->check(CLI::Range(1, 1 << 20));
    c->add_option("-c,--ctx-size", a->ctx, "context size in tokens (the whole conversation)")->check(CLI::Range(int64_t{8}, int64_t{1} << 20));
    c->add_option("-t,--threads", a->threads, "threads (default: all cores)")->check(CLI::Range(0, 512));
    c->add_option("-b,--batch-size", a->opts.n_batch, "prompt tokens per forward pass")->check(CLI::Range(1, 65536));
    add_sampling_options(c, a->opts.sampling);
    c->callback([a] { run_chat(*a); });
}

}  // namespace lmx::cli
