// lmx export of the default model, run by lmx's ONNX importer and executor, against
// onnxruntime running the same export (tests/goldens/onnx-export-smollm2, written by
// tools/gen_onnx_export_goldens.py): the decoder-with-past loop as transformers.js runs
// it (prefill, then one token at a time with the past fed back).
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

TEST(OnnxExport, DecoderWithPastMatchesOnnxRuntime) {
    const std::string dir = std::string(LMX_SOURCE_DIR) + "/tests/goldens/onnx-export-smollm2/";
    std::ifstream gf(dir + "goldens.json");
    ASSERT_TRUE(gf.good()) << "missing goldens: tools/gen_onnx_export_goldens.py";
    const nlohmann::json goldens = nlohmann::json::parse(gf);
    const std::string model_path = model_home() + "/" + goldens["model"].get<std::string>();
    if (!fs::exists(model_path)) GTEST_SKIP() << model_path << " is not installed (scripts/setup.sh)";

    const fs::path out = fs::temp_directory_path() / ("lmx-export-test-" + std::to_string(::getpid()));
    fs::create_directories(out);
    const gguf::File f = gguf::File::open(model_path);
    onnx::save(models::export_decoder(f, {}), (out / "model.onnx").string());
    const nlohmann::json config = nlohmann::json::parse(models::export_config_json(f));

    Decoder d{models::import_onnx(onnx::Model::open((out / "model.onnx").string())), config["num_hidden_layers"],
              config["num_key_value_heads"], config["head_dim"], {}, 0};
    ThreadPool pool(2);
    graph::ExecContext ctx(pool, kernels::best_table());
    graph::Executor exec(d.g->graph);
    const int64_t n_vocab = goldens["n_vocab"];
    for (const auto& p : goldens["prompts"]) {
        d.past.assign(static_cast<size_t>(2 * d.n_layers), {});
        d.n_past = 0;
        const std::vector<int64_t> tokens = p["tokens"].get<std::vector<int64_t>>();
        const size_t steps = p["decode_steps"];
        std::vector<float> logits = d.step(exec, ctx, std::vector<int64_t>(tokens.begin(), tokens.end() - static_cast<long>(steps)));
        for (size_t i = tokens.size() - steps; i < tokens.size(); i++) logits = d.step(exec, ctx, {tokens[i]});

        std::vector<float> want(static_cast<size_t>(n_vocab));
        std::ifstream lf(dir + p["last_logits"].get<std::string>(), std::ios::binary);
        lf.read(reinterpret_cast<char*>(want.data()), static_cast<std::streamsize>(want.size() * 4));
        ASSERT_TRUE(lf.good());
        ASSERT_EQ(logits.size(), want.size());
        double worst = 0;
        for (size_t i = 0; i < want.size(); i++) worst = std::max(worst, std::fabs(static_cast<double>(logits[i]) - want[i]));
        // Both compute in fp32; only the summation order differs.
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
    fs::remove_all(out);
}
