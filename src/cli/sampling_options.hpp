#pragma once
// The sampling options shared by the commands that generate text (generate, chat).
#include <CLI/CLI.hpp>

#include "runtime/sampler.hpp"

namespace lmx::cli {

void add_sampling_options(CLI::App* c, SamplingParams& s);

}  // namespace lmx::cli
