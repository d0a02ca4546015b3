// lmx: the command-line surface over the runtime.
#include <cstdio>

#include "base/error.hpp"
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"lmx: run local language models (GGUF) on the CPU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "lmx 0.1.0");
    lmx::cli::add_generate(app);
    lmx::cli::add_inspect(app);
    lmx::cli::add_bench(app);
    lmx::cli::add_chat(app);
    lmx::cli::add_tokenize(app);
    lmx::cli::add_serve(app);
    lmx::cli::add_embed(app);
    lmx::cli::add_index(app);
    lmx::cli::add_compress(app);
    lmx::cli::add_logprobs(app);
    lmx::cli::add_export(app);
    lmx::cli::add_eval(app);
    lmx::cli::add_quantize(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const lmx::Error& e) {
        std::fprintf(stderr, "lmx: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
