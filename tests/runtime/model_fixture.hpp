#pragma once
// The default model, loaded once for all runtime tests. Tests that need it skip
// loudly when it is not installed — except under CI, where setup installs it and a
// missing model is a failure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <sys/stat.h>

#include "runtime/generator.hpp"
#include "runtime/model.hpp"

inline std::shared_ptr<const lmx::Model> default_model() {
    static std::shared_ptr<const lmx::Model> model = [] {
        struct stat st {};
        const std::string path = lmx::default_model_path();
        return ::stat(path.c_str(), &st) == 0 ? lmx::Model::load(path) : nullptr;
    }();
    return model;
}

#define REQUIRE_DEFAULT_MODEL()                                                                       \
    do {                                                                                              \
        if (!default_model()) {                                                                       \
            if (std::getenv("CI")) FAIL() << "default model missing at " << lmx::default_model_path(); \
            GTEST_SKIP() << "SKIPPED: default model not installed at " << lmx::default_model_path()     \
                         << " (run scripts/setup.sh)";                                                \
        }                                                                                             \
    } while (0)

// Greedy generation of at most n tokens.
inline lmx::GenerateOptions greedy(int n) {
    lmx::GenerateOptions o;
    o.max_tokens = n;
    o.sampling.temperature = 0;
    return o;
}
