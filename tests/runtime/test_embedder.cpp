// Embedder parity: all-MiniLM-L6-v2 over 520 varied texts against
// tests/goldens/embeddings/all-minilm-l6-v2/, written by tools/gen_embedding_goldens.py.
// The reference is that script's float64 numpy forward of sentence-transformers
// (BertModel -> mean Pooling -> Normalize) with HF `tokenizers` ids — torch cannot be
// installed here; the script's `crosscheck` puts that reference at cosine >= 0.9993 of
// ONNX Runtime running the independent int8 ONNX export of the same model.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "embed_fixture.hpp"
#include "kernels/kernels.hpp"

namespace {

// The vectors of e against the reference, each within 1 - min_cosine.
void expect_reference_vectors(lmx::Embedder& e, double min_cosine, const char* what) {
    const std::vector<std::string> texts = golden_sentences();
    ASSERT_GE(texts.size(), 500u);
    const auto ref = golden_vectors("all-minilm-l6-v2", texts.size(), static_cast<size_t>(e.dims()));
    ASSERT_EQ(ref.size(), texts.size()) << "vectors.f16 holds fewer rows than the " << texts.size() << " texts";

    size_t truncated = 0;
    const auto got = e.embed(texts, [&](size_t, size_t n) { truncated += n > 256; });
    EXPECT_GE(truncated, 2u);  // the long edge cases pass max_seq_length = 256
    double worst = 1;
    size_t worst_i = 0;
    for (size_t i = 0; i < texts.size(); i++) {
        const double c = cosine(got[i], ref[i]);
        if (c < worst) worst = c, worst_i = i;
        EXPECT_GE(c, min_cosine) << what << ", text " << i << ": " << texts[i];
    }
    std::printf("all-MiniLM-L6-v2, %s: worst 1 - cosine vs reference %.2e (text %zu of %zu)\n", what, 1 - worst, worst_i, texts.size());
}

}  // namespace

// The default: bf16 products where the CPU has them (cosine >= 0.9999, the bar),
// else f32; and f32 asked for, which is within float rounding of the float64 reference.
TEST(Embedder, MatchesSentenceTransformersReferenceOn520Texts) {
    REQUIRE_EMBED_MODEL();
    expect_reference_vectors(*default_embedder(), 0.9999,
                             lmx::kernels::best_table().gemm_bf16_panels ? "bf16 products" : "f32 products");
    lmx::EmbedderOptions o;
    o.n_threads = 2;
    o.f32 = true;
    lmx::Embedder f32(embed_model_dir(), o);
    expect_reference_vectors(f32, 0.999999, "f32 products (--f32)");
}

// One thread runs every work item itself (parallel_for_dynamic hands it the whole range):
// the same vectors as two.
TEST(Embedder, OneThreadGivesTheVectorsOfTwo) {
    REQUIRE_EMBED_MODEL();
    const std::vector<std::string> texts = {"a first sentence about lighthouses", "and a second one, about bread"};
    lmx::EmbedderOptions o;
    o.n_threads = 1;
    lmx::Embedder one(embed_model_dir(), o);
    const auto want = default_embedder()->embed(texts), got = one.embed(texts);
    for (size_t i = 0; i < texts.size(); i++)
        for (size_t j = 0; j < want[i].size(); j++) ASSERT_NEAR(got[i][j], want[i][j], 1e-6) << "text " << i << " dim " << j;
}

TEST(Embedder, BatchingDoesNotChangeVectors) {
    REQUIRE_EMBED_MODEL();
    lmx::Embedder& e = *default_embedder();
    const std::vector<std::string> texts = {"short", "a somewhat longer sentence about embeddings and search",
                                            "", "third one, with punctuation!"};
    const auto together = e.embed(texts);
    for (size_t i = 0; i < texts.size(); i++) EXPECT_EQ(e.embed({texts[i]})[0], together[i]) << texts[i];
}

TEST(Embedder, TruncatesToMaxLengthKeepingTheFinalSpecialToken) {
    REQUIRE_EMBED_MODEL();
    lmx::Embedder& e = *default_embedder();
    std::string long_text;
    for (int i = 0; i < 300; i++) long_text += "word ";
    size_t full = 0;
    const std::vector<int32_t> ids = e.tokenize(long_text, &full);
    EXPECT_EQ(full, 302u);  // [CLS] + 300 + [SEP]
    ASSERT_EQ(ids.size(), static_cast<size_t>(e.max_length()));
    EXPECT_EQ(e.tokenizer().token_text(ids.front()), "[CLS]");
    EXPECT_EQ(e.tokenizer().token_text(ids.back()), "[SEP]");
    std::vector<size_t> told;
    e.embed({"fits", long_text}, [&](size_t i, size_t n) { told = {i, n}; });
    EXPECT_EQ(told, (std::vector<size_t>{1, 302}));
}

TEST(Embedder, PoolingAndNormalizationFollowTheModelFolderUnlessOverridden) {
    REQUIRE_EMBED_MODEL();
    lmx::Embedder& e = *default_embedder();
    EXPECT_EQ(e.pooling(), lmx::ops::Pooling::mean);
    EXPECT_TRUE(e.normalize());
    EXPECT_EQ(e.max_length(), 256);
    EXPECT_EQ(e.dims(), 384);

    lmx::EmbedderOptions o;
    o.n_threads = 1;
    o.pooling = lmx::ops::Pooling::cls;
    o.normalize = false;
    lmx::Embedder cls(embed_model_dir(), o);
    EXPECT_NE(cls.model_id(), e.model_id());
    const auto v = cls.embed({"The cat sat on the mat."})[0];
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    EXPECT_GT(std::abs(std::sqrt(norm) - 1.0), 0.01);  // not normalized
    EXPECT_LT(cosine(v, e.embed({"The cat sat on the mat."})[0]), 0.99);  // CLS is not the mean
    EXPECT_THROW(lmx::parse_pooling("max"), lmx::Error);
}

TEST(Embedder, MissingModelNamesThePath) {
    for (const std::string& path : {std::string("/nonexistent/model"), LMX_SOURCE_DIR + std::string("/tests/runtime")}) {
        try {
            lmx::Embedder e(path, {});
            FAIL() << "expected an error for " << path;
        } catch (const lmx::Error& err) {
            // a missing path is named; a folder without weights names the file it lacks
            const std::string want = path.find("nonexistent") != std::string::npos ? path + ": no such" : path + "/model.safetensors";
            EXPECT_NE(std::string(err.what()).find(want), std::string::npos) << err.what();
        }
    }
}
