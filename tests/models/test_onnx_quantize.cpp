// lmx's 4-bit ONNX weight quantizer against onnxruntime's (tests/goldens/onnx-quantize,
// written by tools/gen_onnx_quantize_goldens.py with onnxruntime 1.22's
// MatMulNBitsQuantizer): for every case, the model lmx writes must serialize to the
// same bytes as onnxruntime's expected_q4.onnx (initializers, nodes, attributes, opsets),
// and lmx must run it like onnxruntime does.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/node_context.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/onnx/quantize.hpp"

using namespace lmx;
namespace fs = std::filesystem;

namespace {

const fs::path kRoot = fs::path(LMX_SOURCE_DIR) / "tests/goldens/onnx-quantize";

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

onnx::Tensor read_pb(const fs::path& p) {
    const std::vector<uint8_t> bytes = read_file(p);
    onnx::Tensor t = onnx::parse_tensor(bytes.data(), bytes.size());
    t.set_owned(std::vector<uint8_t>(t.bytes().begin(), t.bytes().end()));  // outlive `bytes`
    return t;
}

// The settings a case directory is named after: <model>_b<block>_<sym|asym>[_acc<level>];
// the "embed" model also quantizes its Gather.
models::QuantizeOptions options_of(const std::string& name) {
    models::QuantizeOptions o;
    const size_t b = name.find("_b");
    o.block_size = std::stoll(name.substr(b + 2));
    o.symmetric = name.find("_sym") != std::string::npos;
    if (const size_t a = name.find("_acc"); a != std::string::npos) o.accuracy_level = std::stoll(name.substr(a + 4));
    o.embeddings = name.rfind("embed_", 0) == 0;
    return o;
}

std::vector<fs::path> cases() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(kRoot))
        if (fs::exists(e.path() / "expected_q4.onnx")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string describe(const onnx::Node& n) {
    std::string s = n.domain + "::" + n.op_type + " '" + n.name + "' (";
    for (const std::string& i : n.inputs) s += i + ",";
    s += ") attrs:";
    for (const onnx::Attribute& a : n.attributes) s += " " + a.name + "=" + std::to_string(a.i);
    return s;
}

// The quantized model against onnxruntime's, part by part (for a readable failure), then as bytes.
void compare_models(const onnx::Model& got, const onnx::Model& want, const fs::path& expected_file) {
    EXPECT_EQ(got.opset_import, want.opset_import);
    const onnx::Graph &g = got.graph, &w = want.graph;
    ASSERT_EQ(g.initializers.size(), w.initializers.size());
    for (size_t i = 0; i < w.initializers.size(); i++) {
        const onnx::Tensor &a = g.initializers[i], &b = w.initializers[i];
        EXPECT_EQ(a.name, b.name) << "initializer " << i;
        EXPECT_EQ(a.dtype, b.dtype) << b.name;
        EXPECT_EQ(a.dims, b.dims) << b.name;
        ASSERT_EQ(a.nbytes(), b.nbytes()) << b.name;
        size_t differ = 0, first = 0;
        for (size_t k = 0; k < b.nbytes(); k++)
            if (a.bytes()[k] != b.bytes()[k] && differ++ == 0) first = k;
        EXPECT_EQ(differ, 0u) << b.name << ": " << differ << " bytes differ, first at " << first << " (" << int(a.bytes()[first]) << " vs "
                              << int(b.bytes()[first]) << ")";
    }
    ASSERT_EQ(g.nodes.size(), w.nodes.size());
    for (size_t i = 0; i < w.nodes.size(); i++) EXPECT_TRUE(g.nodes[i] == w.nodes[i]) << describe(g.nodes[i]) << "\nexpected " << describe(w.nodes[i]);
    EXPECT_EQ(g.inputs, w.inputs);
    EXPECT_EQ(g.outputs, w.outputs);
    EXPECT_TRUE(onnx::serialize(got) == read_file(expected_file)) << "the serialized model differs from " << expected_file;
}

// At accuracy_level 4 lmx quantizes A to int8 per block as onnxruntime does when
// block_size is a multiple of 32, else it multiplies in fp32.
bool runs_int8(const onnx::Model& m) {
    bool any = false;
    for (const onnx::Node& n : m.graph.nodes) {
        if (n.op_type != "MatMulNBits") continue;
        const onnx::Attribute* level = n.attribute("accuracy_level");
        if (!level || level->i != 4 || n.attribute("block_size")->i % 32 != 0) return false;
        any = true;
    }
    return any;
}

// Runs `m` through lmx's importer and executor on the case's inputs; compares with
// onnxruntime's outputs <prefix>N.pb (rtol 1e-3, atol 1e-5): in fp32 (output_N,
// onnxruntime at accuracy_level 0) both dequantize the same 4-bit weights, in int8
// (output_acc4_N) both also quantize A the same way; only the summation order differs.
// Twice: with this CPU's table (on AVX-512 VNNI the int8 MatMulNBits run as repacked
// tiles, siblings of one A as one grouped op) and with the scalar table (the same graph's
// ops fall back to the file's weights).
void compare_outputs(onnx::Model m, const fs::path& dir, const std::string& prefix) {
    std::unique_ptr<models::OnnxGraph> g = models::import_onnx(std::move(m));
    ThreadPool pool(2);
    std::vector<onnx::Tensor> ins, outs;
    for (size_t i = 0; fs::exists(dir / ("input_" + std::to_string(i) + ".pb")); i++) ins.push_back(read_pb(dir / ("input_" + std::to_string(i) + ".pb")));
    for (size_t i = 0; fs::exists(dir / (prefix + std::to_string(i) + ".pb")); i++) outs.push_back(read_pb(dir / (prefix + std::to_string(i) + ".pb")));
    ASSERT_FALSE(outs.empty()) << "no " << prefix << "0.pb in " << dir;
    std::vector<graph::Tensor> bound;
    for (const onnx::Tensor& t : ins) bound.push_back({models::onnx_import::to_dtype(t.dtype), t.dims, const_cast<uint8_t*>(t.bytes().data())});
    for (const kernels::Table* table : {&kernels::best_table(), &kernels::table(kernels::Isa::scalar)}) {
        SCOPED_TRACE(std::string("kernel table ") + std::string(kernels::isa_name(table->isa)));
        graph::ExecContext ctx(pool, *table);
        graph::Executor exec(g->graph);
        const std::vector<graph::Tensor> got = exec.run(ctx, bound);
        ASSERT_EQ(got.size(), outs.size());
        for (size_t o = 0; o < outs.size(); o++) {
            ASSERT_EQ(got[o].dtype, DType::F32);
            ASSERT_EQ(got[o].dims, outs[o].dims) << "output " << o;
            const float* a = got[o].as<float>();
            std::vector<float> b(static_cast<size_t>(outs[o].elements()));
            std::memcpy(b.data(), outs[o].bytes().data(), b.size() * sizeof(float));
            double worst = 0;
            for (size_t i = 0; i < b.size(); i++) {
                const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
                worst = std::max(worst, d);
                EXPECT_LE(d, 1e-5 + 1e-3 * std::fabs(b[i])) << "output " << o << " element " << i << ": " << a[i] << " vs onnxruntime " << b[i];
            }
            std::printf("  %s output %zu: largest difference from onnxruntime (%s) %.2e\n", kernels::isa_name(table->isa).data(), o,
                        prefix.c_str(), worst);
        }
    }
}

}  // namespace

TEST(OnnxQuantize, MatchesOnnxRuntimeQuantizer) {
    const std::vector<fs::path> all = cases();
    ASSERT_FALSE(all.empty()) << "missing goldens: tools/gen_onnx_quantize_goldens.py";
    for (const fs::path& dir : all) {
        const std::string name = dir.filename().string();
        SCOPED_TRACE(name);
        std::printf("%s\n", name.c_str());
        const onnx::Model got = models::quantize(onnx::Model::open((dir / "model.onnx").string()), options_of(name));
        compare_models(got, onnx::Model::open((dir / "expected_q4.onnx").string()), dir / "expected_q4.onnx");
        // lmx has no If op yet: the branch cases check the bytes only.
        if (name.rfind("branch_", 0) == 0) continue;
        onnx::Model q = models::quantize(onnx::Model::open((dir / "model.onnx").string()), options_of(name));
        const bool int8 = runs_int8(q);
        if (name == "shared_b64_asym_acc4" && kernels::best_table().packed[static_cast<int>(kernels::PackedLayout::u4)]) {
            const size_t onnx_nodes = q.graph.nodes.size();  // 'first' and 'other' read x: one grouped op
            EXPECT_EQ(models::import_onnx(models::quantize(onnx::Model::open((dir / "model.onnx").string()), options_of(name)))->graph.nodes().size(),
                      onnx_nodes - 1);
        }
        compare_outputs(std::move(q), dir, int8 ? "output_acc4_" : "output_");
    }
}

TEST(OnnxQuantize, ReportsBadInput) {
    const fs::path model = kRoot / "mlp_b32_sym" / "model.onnx";
    models::QuantizeOptions o;
    o.block_size = 48;
    EXPECT_THROW(models::quantize(onnx::Model::open(model.string()), o), Error);
    o.block_size = 32;
    o.bits = 8;
    EXPECT_THROW(models::quantize(onnx::Model::open(model.string()), o), Error);
    o.bits = 4;
    o.accuracy_level = 5;
    EXPECT_THROW(models::quantize(onnx::Model::open(model.string()), o), Error);
    // Nothing to quantize: a model whose only MatMul multiplies two activations.
    onnx::Model m;
    m.opset_import = {{"", 17}};
    onnx::Node n;
    n.op_type = "MatMul";
    n.inputs = {"a", "b"};
    n.outputs = {"c"};
    m.graph.nodes.push_back(n);
    try {
        models::quantize(std::move(m), {});
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("nothing to quantize"), std::string::npos) << e.what();
    }
}
