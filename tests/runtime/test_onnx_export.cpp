// lmx export of the default model, run by lmx's ONNX importer and executor, against
// onnxruntime running the same export (tests/goldens/onnx-export-smollm2, written by
// tools/gen_onnx_export_goldens.py): the decoder-with-past loop as transformers.js runs
// it (prefill, then one token at a time with the past fed back), and the exported folder
// loaded as a Model, generating through a Session as any GGUF model does.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/thread_pool.hpp"
#include "formats/gguf.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/decoder_export.hpp"
#include "models/onnx/onnx_import.hpp"
#include "runtime/model.hpp"
#include "runtime/session.hpp"
#include "tokenizer/hf_export.hpp"

using namespace lmx;
namespace fs = std::filesystem;

namespace {

struct Decoder {
    std::unique_ptr<models::OnnxGraph> g;
    int n_layers, kv_heads, head_dim;
    std::vector<std::vector<float>> past;  // per layer: key, value [1, kv_heads, n_past, head_dim]
    int64_t n_past = 0;

    // Runs ids after the past; returns the logits [ids.size(), vocab] and keeps the presents.
    std::vector<float> step(graph::Executor& exec, graph::ExecContext& ctx, const std::vector<int64_t>& ids) {
        const int64_t s = static_cast<int64_t>(ids.size()), total = n_past + s;
        std::vector<int64_t> mask(static_cast<size_t>(total), 1), pos(static_cast<size_t>(s));
        for (int64_t i = 0; i < s; i++) pos[static_cast<size_t>(i)] = n_past + i;
        std::vector<graph::Tensor> in = {{DType::I64, {1, s}, const_cast<int64_t*>(ids.data())},
                                         {DType::I64, {1, total}, mask.data()},
                                         {DType::I64, {1, s}, pos.data()}};
        for (auto& p : past) in.push_back({DType::F32, {1, kv_heads, n_past, head_dim}, p.data()});
        std::vector<graph::Tensor> out = exec.run(ctx, in);
        for (size_t i = 0; i < past.size(); i++) {
            EXPECT_EQ(out[i + 1].dims, (graph::Dims{1, kv_heads, total, head_dim}));
            past[i].assign(out[i + 1].as<float>(), out[i + 1].as<float>() + out[i + 1].elements());
        }
        n_past = total;
        return std::vector<float>(out[0].as<float>(), out[0].as<float>() + out[0].elements());
    }
};

}  // namespace

// Exports the default model once for the suite (a temporary folder in the
// transformers.js layout); skipped when the model is not installed.
class OnnxExport : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const std::string dir = std::string(LMX_SOURCE_DIR) + "/tests/goldens/onnx-export-smollm2/";
        std::ifstream gf(dir + "goldens.json");
        ASSERT_TRUE(gf.good()) << "missing goldens: tools/gen_onnx_export_goldens.py";
        goldens_ = nlohmann::json::parse(gf);
        goldens_dir_ = dir;
        const std::string model_path = model_home() + "/" + goldens_["model"].get<std::string>();
        if (!fs::exists(model_path)) return;
        folder_ = fs::temp_directory_path() / ("lmx-export-test-" + std::to_string(::getpid()));
        fs::create_directories(folder_ / "onnx");
        const gguf::File f = gguf::File::open(model_path);
        onnx::save(models::export_decoder(f, {}), (folder_ / "onnx" / "model.onnx").string());
        auto write = [&](const char* name, const std::string& text) { std::ofstream(folder_ / name, std::ios::binary) << text; };
        write("config.json", models::export_config_json(f));
        write("tokenizer.json", hf_tokenizer_json(f));
        write("tokenizer_config.json", hf_tokenizer_config_json(f));
    }
    static void TearDownTestSuite() {
        if (!folder_.empty()) fs::remove_all(folder_);
    }
    void SetUp() override {
        if (folder_.empty()) GTEST_SKIP() << "the default model is not installed (scripts/setup.sh)";
    }
    std::vector<float> golden_logits(const nlohmann::json& p) const {
        std::vector<float> want(goldens_["n_vocab"].get<size_t>());
        std::ifstream lf(goldens_dir_ + p["last_logits"].get<std::string>(), std::ios::binary);
        lf.read(reinterpret_cast<char*>(want.data()), static_cast<std::streamsize>(want.size() * 4));
        EXPECT_TRUE(lf.good());
        return want;
    }
    static double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
        double worst = 0;
        for (size_t i = 0; i < b.size(); i++) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
        return worst;
    }

    static inline nlohmann::json goldens_;
    static inline std::string goldens_dir_;
    static inline fs::path folder_;
};

TEST_F(OnnxExport, DecoderWithPastMatchesOnnxRuntime) {
    const nlohmann::json config = nlohmann::json::parse(std::ifstream(folder_ / "config.json"));
    Decoder d{models::import_onnx(onnx::Model::open((folder_ / "onnx" / "model.onnx").string())), config["num_hidden_layers"],
              config["num_key_value_heads"], config["head_dim"], {}, 0};
    ThreadPool pool(2);
    graph::ExecContext ctx(pool, kernels::best_table());
    graph::Executor exec(d.g->graph);
    const int64_t n_vocab = goldens_["n_vocab"];
    for (const auto& p : goldens_["prompts"]) {
        d.past.assign(static_cast<size_t>(2 * d.n_layers), {});
        d.n_past = 0;
        const std::vector<int64_t> tokens = p["tokens"].get<std::vector<int64_t>>();
        const size_t steps = p["decode_steps"];
        std::vector<float> logits = d.step(exec, ctx, std::vector<int64_t>(tokens.begin(), tokens.end() - static_cast<long>(steps)));
        for (size_t i = tokens.size() - steps; i < tokens.size(); i++) logits = d.step(exec, ctx, {tokens[i]});

        const std::vector<float> want = golden_logits(p);
        ASSERT_EQ(logits.size(), want.size());
        // Both compute in fp32; only the summation order differs.
        const double worst = max_diff(logits, want);
        std::printf("prompt of %zu tokens: largest logit difference from onnxruntime %.2e\n", tokens.size(), worst);
        EXPECT_LT(worst, 2e-3) << "prompt of " << tokens.size() << " tokens";

        const std::vector<int32_t> greedy = p["greedy"];
        const std::vector<float> margins = p["margins"];
        for (size_t i = 0; i < greedy.size(); i++) {
            const int64_t next = std::max_element(logits.end() - n_vocab, logits.end()) - (logits.end() - n_vocab);
            if (margins[i] < 1e-2f) break;  // a near-tie in onnxruntime: either token is right
            ASSERT_EQ(next, greedy[i]) << "greedy step " << i;
            logits = d.step(exec, ctx, {next});
        }
    }
}

// The folder as a Model: a Session decodes it like a GGUF model (two sequences in one
// batch, each with its own past), and the tokenizer.json written from the GGUF tokenizes
// like the GGUF.
TEST_F(OnnxExport, FolderLoadsAsAModelAndDecodesInBatches) {
    auto model = Model::load(folder_.string());
    ASSERT_EQ(model->format(), Model::Format::onnx);
    auto gguf_model = Model::load(model_home() + "/" + goldens_["model"].get<std::string>());
    EXPECT_FALSE(model->chat_template().empty());
    const int64_t n_vocab = goldens_["n_vocab"];
    SessionOptions o;
    o.n_threads = 2;
    o.n_seq = 2;
    o.n_ctx = 256;
    Session s(model, o);
    const auto& prompts = goldens_["prompts"];
    for (size_t i = 0; i < prompts.size(); i++) {
        const std::string text = gguf_model->tokenizer().decode(prompts[i]["tokens"].get<std::vector<int32_t>>());
        EXPECT_EQ(model->tokenizer().encode(text, false, true), gguf_model->tokenizer().encode(text, false, true)) << text;
    }
    // Prompts 1 and 2 side by side: prefill all but the last decode_steps tokens, then
    // one token of each per batch.
    const std::vector<int32_t> a = prompts[1]["tokens"], b = prompts[2]["tokens"];
    const size_t steps = prompts[1]["decode_steps"];
    ASSERT_EQ(steps, prompts[2]["decode_steps"].get<size_t>());
    Batch batch;
    for (size_t i = 0; i + steps < a.size(); i++) batch.add(a[i], static_cast<int32_t>(i), 0, false);
    for (size_t i = 0; i + steps < b.size(); i++) batch.add(b[i], static_cast<int32_t>(i), 1, false);
    s.decode(batch);
    std::vector<float> logits;
    for (size_t k = steps; k > 0; k--) {
        batch.clear();
        batch.add(a[a.size() - k], static_cast<int32_t>(a.size() - k), 0, true);
        batch.add(b[b.size() - k], static_cast<int32_t>(b.size() - k), 1, true);
        logits = s.decode(batch);
    }
    ASSERT_EQ(logits.size(), static_cast<size_t>(2 * n_vocab));
    EXPECT_LT(max_diff(std::vector<float>(logits.begin(), logits.begin() + n_vocab), golden_logits(prompts[1])), 2e-3);
    EXPECT_LT(max_diff(std::vector<float>(logits.begin() + n_vocab, logits.end()), golden_logits(prompts[2])), 2e-3);

    // Rewinding a sequence (as chat prefix reuse does) recomputes from the cut.
    batch.clear();
    for (size_t k = steps; k > 0; k--) batch.add(a[a.size() - k], static_cast<int32_t>(a.size() - k), 0, k == 1);
    logits = s.decode(batch);
    EXPECT_LT(max_diff(logits, golden_logits(prompts[1])), 2e-3);
}
