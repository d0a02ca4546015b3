// Every supported architecture against llama.cpp, one test instance per model:
// goldens from `tools/gen_logit_goldens.py --model NAME` in tests/goldens/<NAME>/.
// The default model must be installed under CI; the others are optional downloads
// (scripts/setup.sh --models all) and their tests skip loudly when they are missing.
//
// The logit and greedy checks run the decoder graph straight from the GGUF file, fed
// with llama.cpp's token ids, so they hold even for a model whose tokenizer lmx
// cannot build yet; tokenization has its own test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string_view>
#include <sys/stat.h>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "logit_goldens.hpp"
#include "models/decoder.hpp"
#include "ops/kv_cache.hpp"
#include "runtime/model.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace lmx;

namespace {

using test::Golden, test::ModelGoldens, test::load_goldens;

bool installed(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

#define REQUIRE_MODEL(m)                                                                                       \
    do {                                                                                                       \
        if (!installed((m).model_path)) {                                                                      \
            if ((m).is_default && std::getenv("CI")) FAIL() << "default model missing at " << (m).model_path;   \
            GTEST_SKIP() << "SKIPPED: model not installed at " << (m).model_path                                \
                         << " (scripts/setup.sh --models all installs it)";                                    \
        }                                                                                                      \
    } while (0)

// The decoder graph of a GGUF file with its own KV cache and executor: a Session
// without the tokenizer.
class Decoder {
public:
    Decoder(const std::string& path, int n_seq, int64_t n_ctx)
        : file_(gguf::File::open(path)), decoder_(models::build_decoder(file_)), pool_(2),
          kv_(decoder_.config.n_layers, decoder_.config.n_kv_heads, decoder_.config.head_dim, n_seq, n_ctx),
          executor_(decoder_.graph), ctx_(pool_, kernels::best_table(), &kv_) {}

    // Logits [rows.size(), n_vocab] of the batch tokens at `rows`.
    std::vector<float> run(std::vector<int32_t> tokens, std::vector<int32_t> positions, std::vector<int32_t> seq_ids,
                           std::vector<int32_t> rows) {
        auto i32 = [](std::vector<int32_t>& v) { return graph::Tensor{DType::I32, {static_cast<int64_t>(v.size())}, v.data()}; };
        const graph::Tensor out = executor_.run(ctx_, {i32(tokens), i32(positions), i32(seq_ids), i32(rows)}).at(0);
        return {out.as<float>(), out.as<float>() + out.elements()};
    }
    // One sequence's tokens from position `first`; the logits of the last one.
    std::vector<float> run(const std::vector<int32_t>& tokens, int32_t first, int32_t seq = 0) {
        std::vector<int32_t> pos(tokens.size());
        for (size_t i = 0; i < pos.size(); i++) pos[i] = first + static_cast<int32_t>(i);
        return run(tokens, pos, std::vector<int32_t>(tokens.size(), seq), {static_cast<int32_t>(tokens.size()) - 1});
    }

private:
    gguf::File file_;
    models::DecoderGraph decoder_;
    ThreadPool pool_;
    ops::KvCache kv_;
    graph::Executor executor_;
    graph::ExecContext ctx_;
};

constexpr int64_t kGreedySteps = 32;

int64_t context_for(const ModelGoldens& m) {
    size_t longest = 0;
    for (const Golden& g : m.prompts) longest = std::max(longest, g.tokens.size());
    return static_cast<int64_t>(longest) + kGreedySteps + 1;
}

int32_t argmax(const std::vector<float>& x) { return static_cast<int32_t>(std::max_element(x.begin(), x.end()) - x.begin()); }

class ModelGoldensTest : public ::testing::TestWithParam<const char*> {
protected:
    ModelGoldens m = load_goldens(GetParam());
};

}  // namespace

TEST_P(ModelGoldensTest, TokenizationMatchesLlamaCpp) {
    REQUIRE_MODEL(m);
    const gguf::File f = gguf::File::open(m.model_path);
    std::unique_ptr<Tokenizer> tok;
    try {
        tok = Tokenizer::from_gguf(f);
    } catch (const Error& e) {
        if (std::string_view(e.what()).find("is not supported") == std::string_view::npos) throw;
        GTEST_SKIP() << "SKIPPED until lmx tokenizes this vocabulary: " << e.what();
    }
    for (const Golden& g : m.prompts) EXPECT_EQ(tok->encode(g.text, true, true), g.tokens) << g.text;
}

// Stated tolerance, the one test_llama_goldens.cpp justifies for SmolLM2: both
// runtimes re-quantize activations to 8 bits before every matmul, so float differences
// far below 1e-6 flip single rounding steps and grow through the layers. Measured
// (AVX-512, over the stored logits: all for SmolLM2, llama.cpp's top 256 plus every
// 101st id for the others): SmolLM2 max 0.73-1.08, mean 0.11-0.33; Gemma-3-270M max
// 0.67-1.60, mean 0.16-0.59; Qwen2.5-Coder-1.5B max 0.30-0.46, mean 0.07-0.08. Gemma's
// stored logits are mostly its top 256, where the noise is largest: our own scalar
// reference path (LMX_ISA=scalar) measures mean 0.65 on its 19-token prompt, and any
// change of summation order (e.g. the AVX2 Q5_0 kernel) moves a prompt's mean by ±0.2.
// We require max <= 2.0, mean <= 0.8 and the same top-1 token. A real bug moves logits
// by several units: without its sliding window, Gemma's 598-token prompt is off by max
// 9.8, mean 4.5.
TEST_P(ModelGoldensTest, LastLogitsMatchLlamaCpp) {
    REQUIRE_MODEL(m);
    Decoder dec(m.model_path, 1, context_for(m));
    for (const Golden& g : m.prompts) {
        const std::vector<float> logits = dec.run(g.tokens, 0);
        double max_diff = 0, sum_diff = 0;
        for (size_t i = 0; i < g.logit_ids.size(); i++) {
            const double d = std::fabs(double(logits[size_t(g.logit_ids[i])]) - g.last_logits[i]);
            max_diff = std::max(max_diff, d);
            sum_diff += d;
        }
        const double mean_diff = sum_diff / double(g.logit_ids.size());
        std::printf("[ info ] %s, prompt of %zu tokens: |logit - llama.cpp| max %.4f, mean %.4f over %zu logits\n", GetParam(),
                    g.tokens.size(), max_diff, mean_diff, g.logit_ids.size());
        EXPECT_LE(max_diff, 2.0) << g.text;
        EXPECT_LE(mean_diff, 0.8) << g.text;
        // the golden ids include llama.cpp's top tokens, so its argmax is among them
        const size_t top = size_t(std::max_element(g.last_logits.begin(), g.last_logits.end()) - g.last_logits.begin());
        EXPECT_EQ(argmax(logits), g.logit_ids[top]) << g.text;
    }
}

// Every step of llama.cpp's 32-token greedy continuation, fed back token by token
// (teacher forcing, so one tie cannot derail the rest): our argmax must be llama.cpp's
// token wherever llama.cpp's own top-2 margin is at least kTie, the near-tie margin
// test_llama_goldens.cpp measured. Gemma-3's logits are the noisiest (see above): its
// near-tie margin is 0.6, as a summation order alone moves a margin by that much. Measured
// (AVX-512): its 19-token prompt's step 6, llama.cpp margin 0.54, comes out the other way
// round by 0.02-0.04 with the online-softmax attention (scalar reference and AVX-512) and
// llama.cpp's way with the two-pass attention; step 23 of the same prompt moves by 0.4 to
// 1.3 between those paths, which all stay within the logit tolerance above. At most three
// near-ties per prompt decided differently, for every model.
TEST_P(ModelGoldensTest, GreedyContinuationMatchesLlamaCpp) {
    REQUIRE_MODEL(m);
    const float kTie = std::string_view(GetParam()) == "gemma3-270m" ? 0.6f : 0.3f;
    Decoder dec(m.model_path, 1, context_for(m));
    for (const Golden& g : m.prompts) {
        std::vector<float> logits = dec.run(g.tokens, 0);
        int32_t pos = static_cast<int32_t>(g.tokens.size());
        int ties = 0;
        for (size_t step = 0; step < g.greedy.size(); step++) {
            const int32_t ours = argmax(logits);
            if (g.margins[step] >= kTie) EXPECT_EQ(ours, g.greedy[step]) << g.text << " step " << step;
            else ties += ours != g.greedy[step];
            logits = dec.run({g.greedy[step]}, pos++);
        }
        std::printf("[ info ] %s, prompt of %zu tokens: %zu greedy steps, %d near-tie(s) decided differently\n", GetParam(),
                    g.tokens.size(), g.greedy.size(), ties);
    }
}

// All prompts as sequences of one batch give exactly the logits each gives alone
// (sliding windows and per-head norms must not mix sequences).
TEST_P(ModelGoldensTest, BatchOfSequencesEqualsEachAlone) {
    REQUIRE_MODEL(m);
    const int n_seq = static_cast<int>(m.prompts.size());
    Decoder alone(m.model_path, 1, context_for(m)), batched(m.model_path, n_seq, context_for(m));
    std::vector<int32_t> tokens, pos, seq, rows;
    for (int s = 0; s < n_seq; s++) {
        const std::vector<int32_t>& t = m.prompts[size_t(s)].tokens;
        for (size_t i = 0; i < t.size(); i++) {
            tokens.push_back(t[i]);
            pos.push_back(static_cast<int32_t>(i));
            seq.push_back(s);
        }
        rows.push_back(static_cast<int32_t>(tokens.size()) - 1);
    }
    const std::vector<float> all = batched.run(tokens, pos, seq, rows);
    ASSERT_EQ(all.size() % size_t(n_seq), 0u);
    const size_t n_vocab = all.size() / size_t(n_seq);
    for (int s = 0; s < n_seq; s++) {
        const std::vector<float> ref = alone.run(m.prompts[size_t(s)].tokens, 0);
        ASSERT_EQ(ref.size(), n_vocab);
        EXPECT_TRUE(std::equal(ref.begin(), ref.end(), all.begin() + static_cast<long>(size_t(s) * n_vocab))) << "sequence " << s;
    }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelGoldensTest, ::testing::Values("smollm2", "gemma3-270m", "qwen2.5-coder-1.5b"),
                         [](const auto& info) {
                             std::string name = info.param;
                             std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                             return name;
                         });
