#include "cli/sampling_options.hpp"

namespace lmx::cli {

void add_sampling_options(CLI::App* c, SamplingParams& s) {
    c->add_option("--temp", s.temperature, "temperature; 0 = greedy")->check(CLI::Range(0.0f, 100.0f));
    c->add_option("--top-k", s.top_k, "keep the K most likely tokens; 0 = off")->check(CLI::NonNegativeNumber);
    c->add_option("--top-p", s.top_p, "nucleus sampling; 1 = off")->check(CLI::Range(0.0f, 1.0f));
    c->add_option("--min-p", s.min_p, "drop tokens below P x the top probability; 0 = off")->check(CLI::Range(0.0f, 1.0f));
    c->add_option("--repeat-penalty", s.repeat_penalty, "penalize recent tokens; 1 = off")->check(CLI::PositiveNumber);
    c->add_option("--repeat-last-n", s.repeat_last_n, "how many recent tokens the penalty sees")->check(CLI::NonNegativeNumber);
    c->add_option("-s,--seed", s.seed, "random seed (same seed, same text)");
}

}  // namespace lmx::cli
