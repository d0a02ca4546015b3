// BERT GGUF encoders against llama.cpp: all-MiniLM-L6-v2 written as GGUF in f16, q8_0
// and q4_0 by tools/make_bert_gguf.py (scripts/setup.sh, models/derived.tsv), and
// llama.cpp's WordPiece ids and pooled, normalized vectors for the 520 golden texts in
// tests/goldens/embeddings/all-minilm-l6-v2.<type>/ (tools/gen_embedding_goldens.py gguf).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "base/error.hpp"
#include "embed_fixture.hpp"

namespace {

std::string gguf_path(const std::string& type) { return lmx::model_home() + "/all-minilm-l6-v2." + type + ".gguf"; }

// The GGUF variant installed by setup, or a skip (a failure under CI, where setup makes them).
#define REQUIRE_GGUF(type)                                                                                   \
    do {                                                                                                     \
        struct stat st {};                                                                                   \
        if (::stat(gguf_path(type).c_str(), &st) != 0) {                                                     \
            if (std::getenv("CI")) FAIL() << gguf_path(type) << " is missing";                              \
            GTEST_SKIP() << "SKIPPED: " << gguf_path(type) << " not made (run scripts/setup.sh)";            \
        }                                                                                                    \
    } while (0)

// Every text's ids as llama.cpp's, and its vector within 1 - min_cosine of llama.cpp's,
// the median gap at most max_median_gap.
void expect_llama_cpp_vectors(const std::string& type, double min_cosine, double max_median_gap) {
    lmx::EmbedderOptions o;
    o.n_threads = 2;
    o.f32 = true;  // for f16 weights: bf16 products would round the weights llama.cpp multiplies
    lmx::Embedder e(gguf_path(type), o);
    EXPECT_EQ(e.pooling(), lmx::ops::Pooling::mean);  // bert.pooling_type 1
    EXPECT_TRUE(e.normalize());                       // llama.cpp's default
    EXPECT_EQ(e.max_length(), 512);                   // bert.context_length
    const std::string golden = "all-minilm-l6-v2." + type;
    const std::vector<std::string> texts = golden_sentences();
    const auto ids = golden_tokens(golden);
    ASSERT_EQ(ids.size(), texts.size());
    const auto ref = golden_vectors(golden, texts.size(), static_cast<size_t>(e.dims()));
    ASSERT_EQ(ref.size(), texts.size());

    size_t token_mismatches = 0;
    for (size_t i = 0; i < texts.size(); i++)
        if (e.tokenize(texts[i]) != ids[i] && ++token_mismatches <= 3) ADD_FAILURE() << type << ": ids differ from llama.cpp's for text " << i << ": " << texts[i];
    EXPECT_EQ(token_mismatches, 0u);

    const auto got = e.embed(texts);
    std::vector<double> gaps;  // 1 - cosine
    for (size_t i = 0; i < texts.size(); i++) {
        const double c = cosine(got[i], ref[i]);
        gaps.push_back(1 - c);
        EXPECT_GE(c, min_cosine) << type << ", text " << i << ": " << texts[i];
    }
    const size_t worst = static_cast<size_t>(std::max_element(gaps.begin(), gaps.end()) - gaps.begin());
    EXPECT_LE(median(gaps), max_median_gap) << type;
    std::printf("all-MiniLM-L6-v2 GGUF %s vs llama.cpp, 1 - cosine: median %.2e, worst %.2e (text %zu of %zu)\n", type.c_str(),
                median(gaps), gaps[worst], worst, texts.size());
}

// The median 1 - cosine from the sentence-transformers reference of lmx's vectors for a
// GGUF type and of llama.cpp's (its goldens), over the texts both tokenizers (the GGUF
// file's WordPiece and HF's tokenizer.json) cut alike and that fit in 256 tokens.
struct GapsToReference {
    double lmx, llama_cpp, lmx_worst;
    size_t texts;
};
GapsToReference gaps_to_reference(const std::string& type) {
    lmx::EmbedderOptions o;
    o.n_threads = 2;
    o.max_length = 256;
    lmx::Embedder e(gguf_path(type), o);
    const std::vector<std::string> all = golden_sentences();
    const auto st = golden_vectors("all-minilm-l6-v2", all.size(), static_cast<size_t>(e.dims()));
    const auto llama = golden_vectors("all-minilm-l6-v2." + type, all.size(), static_cast<size_t>(e.dims()));
    std::vector<std::string> texts;
    std::vector<size_t> index;
    for (size_t i = 0; i < all.size(); i++) {
        size_t n = 0;
        const std::vector<int32_t> ids = e.tokenize(all[i], &n);
        if (n <= 256 && ids == default_embedder()->tokenize(all[i])) texts.push_back(all[i]), index.push_back(i);
    }
    const auto got = e.embed(texts);
    std::vector<double> ours, theirs;
    for (size_t j = 0; j < texts.size(); j++) {
        ours.push_back(1 - cosine(got[j], st[index[j]]));
        theirs.push_back(1 - cosine(llama[index[j]], st[index[j]]));
    }
    std::printf("all-MiniLM-L6-v2 GGUF %s vs sentence-transformers, median 1 - cosine over %zu texts: lmx %.2e, llama.cpp %.2e\n",
                type.c_str(), texts.size(), median(ours), median(theirs));
    return {median(ours), median(theirs), *std::max_element(ours.begin(), ours.end()), texts.size()};
}

}  // namespace

// f16 weights: llama.cpp rounds the activations to f16 for its products, lmx keeps f32
// (--f32: no bf16 products).
TEST(EmbedderGguf, F16MatchesLlamaCpp) {
    REQUIRE_GGUF("f16");
    expect_llama_cpp_vectors("f16", 0.9999, 2e-6);
}

// Quantized weights: both quantize activations to Q8_0 as ggml does, but llama.cpp's
// GELU is a tanh approximation read from an f16 table where lmx computes BERT's erf GELU,
// and those small differences move some activations across a rounding step; the gap to
// llama.cpp is that noise (about a third of the quantization's own, see below).
TEST(EmbedderGguf, Q8_0MatchesLlamaCpp) {
    REQUIRE_GGUF("q8_0");
    expect_llama_cpp_vectors("q8_0", 0.999, 2e-4);
}

TEST(EmbedderGguf, Q4_0MatchesLlamaCpp) {
    REQUIRE_GGUF("q4_0");
    expect_llama_cpp_vectors("q4_0", 0.999, 2e-4);
}

// The f16 file through the GGUF path is the safetensors model: within the bar of
// the sentence-transformers reference (bf16 products where the CPU has them).
TEST(EmbedderGguf, F16MatchesSentenceTransformersReference) {
    REQUIRE_GGUF("f16");
    REQUIRE_EMBED_MODEL();
    const GapsToReference g = gaps_to_reference("f16");
    EXPECT_GE(g.texts, 500u);
    EXPECT_LE(g.lmx_worst, 1e-4);
}

// Quantized, lmx's vectors are as close to the full-precision reference as llama.cpp's.
TEST(EmbedderGguf, QuantizedVectorsAreAsCloseToTheReferenceAsLlamaCpps) {
    for (const char* type : {"q8_0", "q4_0"}) {
        REQUIRE_GGUF(type);
        REQUIRE_EMBED_MODEL();
        const GapsToReference g = gaps_to_reference(type);
        EXPECT_GE(g.texts, 500u);
        EXPECT_LE(g.lmx, 1.05 * g.llama_cpp) << type;
    }
}

TEST(EmbedderGguf, BatchingDoesNotChangeQuantizedVectors) {
    REQUIRE_GGUF("q4_0");
    lmx::EmbedderOptions o;
    o.n_threads = 2;
    lmx::Embedder e(gguf_path("q4_0"), o);
    const std::vector<std::string> texts = {"short", "a somewhat longer sentence about embeddings and search", "",
                                            "third one, with punctuation!"};
    const auto together = e.embed(texts);
    for (size_t i = 0; i < texts.size(); i++) EXPECT_EQ(e.embed({texts[i]})[0], together[i]) << texts[i];
}

TEST(EmbedderGguf, ADecoderGgufIsRefusedByName) {
    const std::string decoder = lmx::model_home() + "/SmolLM2-135M-Instruct.Q4_1.gguf";
    struct stat st {};
    if (::stat(decoder.c_str(), &st) != 0) GTEST_SKIP() << "SKIPPED: default model not installed";
    EXPECT_FALSE(lmx::is_embedding_model(decoder));
    try {
        lmx::Embedder e(decoder, {});
        FAIL() << "expected an error";
    } catch (const lmx::Error& err) {
        EXPECT_NE(std::string(err.what()).find("architecture 'llama' is not an encoder"), std::string::npos) << err.what();
    }
}
