// lmx bench: prompt-processing and generation speed, like llama-bench.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <sys/resource.h>

#include "cli/commands.hpp"
#include "cli/roofline.hpp"
#include "runtime/session.hpp"

namespace lmx::cli {

namespace {

struct BenchArgs {
    std::string model;
    int n_prompt = 512, n_gen = 128, threads = 0, reps = 3, parallel = 1;
    bool as_json = false, profile = false, deterministic = false, roofline = false;
};

struct Stats {
    double mean = 0, sd = 0;
};

Stats stats(const std::vector<double>& xs) {
    Stats s;
    for (double x : xs) s.mean += x;
    s.mean /= static_cast<double>(xs.size());
    for (double x : xs) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = xs.size() > 1 ? std::sqrt(s.sd / static_cast<double>(xs.size() - 1)) : 0.0;
    return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Per-op share of the measured time, most expensive first (per repetition).
void print_profile(const char* what, const std::map<std::string, graph::ExecContext::OpTime>& ops, int reps) {
    double total = 0;
    for (const auto& [name, t] : ops) total += t.ms;
    std::vector<std::pair<std::string, graph::ExecContext::OpTime>> rows(ops.begin(), ops.end());
    std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.second.ms > y.second.ms; });
    std::fprintf(stderr, "%s: %.1f ms per repetition in ops\n", what, total / reps);
    for (const auto& [name, t] : rows)
        std::fprintf(stderr, "  %-18s %9.2f ms  %5.1f%%  %8lld calls\n", name.c_str(), t.ms / reps, 100.0 * t.ms / total,
                     static_cast<long long>(t.calls / reps));
}

// The process's peak resident memory so far (weights, their repacked copies, KV cache,
// the executor's arena), in MiB.
double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void run_bench(const BenchArgs& a) {
    const auto t_load = std::chrono::steady_clock::now();
    auto model = Model::load(a.model.empty() ? default_model_path() : a.model);
    SessionOptions so{a.threads, a.n_prompt + a.n_gen + 1, a.parallel};
    so.deterministic = a.deterministic;
    Session session(model, so);
    const double load_s = seconds_since(t_load);  // mapping, checks, graph building, repacking
    std::mt19937 rng(1234);  // random token ids: speed does not depend on the text
    std::uniform_int_distribution<int32_t> tok(0, model->config().n_vocab - 1);
    std::map<std::string, graph::ExecContext::OpTime> pp_ops, tg_ops;
    std::vector<double> pp, tg;
    for (int rep = 0; rep < a.reps + 1; rep++) {  // the first repetition warms up and is dropped
        Batch b;  // every sequence's prompt in one batch, then one token per sequence a step
        for (int s = 0; s < a.parallel; s++)
            for (int i = 0; i < a.n_prompt; i++) b.add(tok(rng), i, s, i + 1 == a.n_prompt);
        const bool measured = rep > 0 && a.profile;
        session.set_profile(measured ? &pp_ops : nullptr);
        auto t0 = std::chrono::steady_clock::now();
        if (a.n_prompt > 0) session.decode(b);
        const double pp_s = seconds_since(t0);
        session.set_profile(measured ? &tg_ops : nullptr);
        t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < a.n_gen; i++) {
            b.clear();
            for (int s = 0; s < a.parallel; s++) b.add(tok(rng), a.n_prompt + i, s, true);
            session.decode(b);
        }
        const double tg_s = seconds_since(t0);
        if (rep == 0) continue;
        if (a.n_prompt > 0) pp.push_back(a.parallel * a.n_prompt / pp_s);
        if (a.n_gen > 0) tg.push_back(a.parallel * a.n_gen / tg_s);
    }
    session.set_profile(nullptr);
    if (a.profile) {
        print_profile("prompt processing", pp_ops, a.reps);
        print_profile("generation", tg_ops, a.reps);
    }
    const Stats p = pp.empty() ? Stats{} : stats(pp), g = tg.empty() ? Stats{} : stats(tg);
    // the bandwidth bound: measured after the runs, so it does not disturb them
    const size_t bytes_per_token = weight_bytes_per_token(model->graph());
    const double bw1 = a.roofline ? read_bandwidth_gbps(1) : 0, bw = a.roofline ? read_bandwidth_gbps(session.n_threads()) : 0;
    const double bound = bw * 1e9 / static_cast<double>(bytes_per_token);
    if (a.as_json) {
        nlohmann::json j = {{"model", model->path()}, {"threads", session.n_threads()}, {"isa", std::string(session.isa())}, {"deterministic", a.deterministic},
                            {"n_prompt", a.n_prompt}, {"n_gen", a.n_gen}, {"parallel", a.parallel}, {"reps", a.reps},
                            {"pp_tok_s", pp}, {"tg_tok_s", tg}, {"pp_mean", p.mean}, {"tg_mean", g.mean},
                            {"weight_bytes_per_token", bytes_per_token}, {"load_s", load_s}, {"peak_rss_mib", peak_rss_mib()},
                            {"kv_cache_mib", static_cast<double>(session.kv_bytes()) / (1 << 20)},
                            {"arena_mib", static_cast<double>(session.arena_bytes()) / (1 << 20)}};
        if (a.roofline) j.update({{"read_gb_s_1_thread", bw1}, {"read_gb_s", bw}, {"tg_bound_tok_s", bound}});
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    std::printf("| model | threads | isa | test | t/s |\n|---|---|---|---|---|\n");
    const std::string name = model->path().substr(model->path().find_last_of('/') + 1);
    const std::string isa = std::string(session.isa()) + (a.deterministic ? " deterministic" : "");
    const std::string streams = a.parallel > 1 ? " x" + std::to_string(a.parallel) : "";
    if (!pp.empty())
        std::printf("| %s | %d | %s | pp%d%s | %.2f ± %.2f |\n", name.c_str(), session.n_threads(), isa.c_str(), a.n_prompt,
                    streams.c_str(), p.mean, p.sd);
    if (!tg.empty())
        std::printf("| %s | %d | %s | tg%d%s | %.2f ± %.2f |\n", name.c_str(), session.n_threads(), isa.c_str(), a.n_gen,
                    streams.c_str(), g.mean, g.sd);
    std::printf("\nload %.2f s; peak RSS %.0f MiB (KV cache %.0f MiB, activations arena %.1f MiB)\n", load_s, peak_rss_mib(),
                static_cast<double>(session.kv_bytes()) / (1 << 20), static_cast<double>(session.arena_bytes()) / (1 << 20));
    if (a.roofline)
        std::printf("\nroofline: read bandwidth %.1f GB/s (1 thread), %.1f GB/s (%d threads); %.1f MB of weights a token -> at most %.1f "
                    "tok/s; generation ran at %.0f%% of that\n",
                    bw1, bw, session.n_threads(), static_cast<double>(bytes_per_token) / 1e6, bound, tg.empty() ? 0.0 : 100.0 * g.mean / bound);
}

}  // namespace

void add_bench(CLI::App& app) {
    auto a = std::make_shared<BenchArgs>();
    CLI::App* c = app.add_subcommand("bench", "measure prompt-processing and generation tokens/s");
    c->add_option("-m,--model", a->model, "GGUF model file (default: the installed SmolLM2-135M-Instruct)");
    c->add_option("-p,--n-prompt", a->n_prompt, "prompt tokens")->check(CLI::Range(0, 1 << 16));
    c->add_option("-n,--n-gen", a->n_gen, "generated tokens")->check(CLI::Range(0, 1 << 16));
    c->add_option("-t,--threads", a->threads, "threads (default: all cores)")->check(CLI::Range(0, 512));
    c->add_option("-r,--reps", a->reps, "repetitions (after one warm-up)")->check(CLI::Range(1, 1000));
    c->add_option("--parallel", a->parallel,
                  "sequences decoded together (continuous batching, as lmx serve): t/s are their sum")
        ->check(CLI::Range(1, 256));
    c->add_flag("--json", a->as_json, "print JSON");
    c->add_flag("--profile", a->profile, "print the time spent in each op (stderr)");
    c->add_flag("--roofline", a->roofline, "also measure read bandwidth: generation as a share of its memory bound");
    c->add_flag("--deterministic", a->deterministic, "deterministic mode (bit-identical logits on every ISA, as lmx compress runs)");
    c->callback([a] { run_bench(*a); });
}

}  // namespace lmx::cli
