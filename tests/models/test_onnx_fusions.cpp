// The importer's constant folding: weight-only int8 matrices dequantized once at import.
// Its fusions (models/onnx/fusions.hpp) against the nodes they replace: the
// same graph imported with each pattern intact and with one of its values also a graph
// output (a second reader, so nothing may be fused) must give the same bits for RoPE and
// the same values (SIMD exp) for SwiGLU, for the exports' shapes and for broadcasts the
// patterns allow.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"
#include "models/onnx/onnx_import.hpp"

using namespace lmx;

namespace {

onnx::ValueInfo unshaped(const std::string& name) {
    onnx::ValueInfo v;
    v.name = name;
    v.type.kind = onnx::TypeProto::Kind::TENSOR;
    v.type.elem_type = onnx::DataType::FLOAT;
    return v;
}

onnx::Tensor initializer(const std::string& name, onnx::DataType t, std::vector<int64_t> dims, const void* data, size_t bytes) {
    onnx::Tensor x;
    x.name = name;
    x.dtype = t;
    x.dims = std::move(dims);
    x.set_owned(std::vector<uint8_t>(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes));
    return x;
}

void node(onnx::Graph& g, const std::string& type, std::vector<std::string> in, const std::string& out, int64_t axis = 0) {
    onnx::Node n;
    n.op_type = type;
    n.inputs = std::move(in);
    n.outputs = {out};
    if (type == "Concat") n.attributes.push_back(onnx::int_attribute("axis", axis));
    g.nodes.push_back(std::move(n));
}

// RoPE as lmx export writes it (y) and a SwiGLU MLP (z), half = 4; `extra` names values
// made graph outputs too.
onnx::Model rope_and_mlp(const std::vector<std::string>& extra) {
    onnx::Model m;
    m.opset_import = {{"", 17}};
    onnx::Graph& g = m.graph;
    for (const char* in : {"x", "cos", "sin", "a"}) g.inputs.push_back(unshaped(in));
    auto ints = [&](const std::string& name, int64_t v) { g.initializers.push_back(initializer(name, onnx::DataType::INT64, {1}, &v, 8)); };
    ints("zero", 0), ints("half", 4), ints("end", 8), ints("axis", -1);
    std::vector<float> wg(6 * 5), wu(6 * 5);
    for (size_t i = 0; i < wg.size(); i++) wg[i] = 0.3f * std::sin(static_cast<float>(i)), wu[i] = 0.2f * std::cos(static_cast<float>(i) * 1.7f);
    g.initializers.push_back(initializer("wg", onnx::DataType::FLOAT, {6, 5}, wg.data(), wg.size() * 4));
    g.initializers.push_back(initializer("wu", onnx::DataType::FLOAT, {6, 5}, wu.data(), wu.size() * 4));
    node(g, "Slice", {"x", "zero", "half", "axis"}, "lo");
    node(g, "Slice", {"x", "half", "end", "axis"}, "hi");
    node(g, "Neg", {"hi"}, "neg");
    node(g, "Concat", {"neg", "lo"}, "rot", -1);
    node(g, "Mul", {"x", "cos"}, "xc");
    node(g, "Mul", {"sin", "rot"}, "rs");  // operands in the other order
    node(g, "Add", {"rs", "xc"}, "y");
    node(g, "MatMul", {"a", "wg"}, "gate");
    node(g, "MatMul", {"a", "wu"}, "up");
    node(g, "Sigmoid", {"gate"}, "sig");
    node(g, "Mul", {"sig", "gate"}, "silu");
    node(g, "Mul", {"up", "silu"}, "z");
    for (const char* out : {"y", "z"}) g.outputs.push_back(unshaped(out));
    for (const std::string& out : extra) g.outputs.push_back(unshaped(out));
    return m;
}

struct Input {
    graph::Dims dims;
    std::vector<float> v;
};

Input filled(graph::Dims dims, float seed) {
    Input in{dims, std::vector<float>(static_cast<size_t>(graph::Tensor{DType::F32, dims, nullptr}.elements()))};
    for (size_t i = 0; i < in.v.size(); i++) in.v[i] = std::sin(seed + 0.37f * static_cast<float>(i)) * 2.0f;
    return in;
}

// Runs the model on x, cos, sin, a; returns y and z, and the graph's op names.
std::vector<std::vector<float>> run(onnx::Model m, std::vector<Input> inputs, std::vector<std::string>* ops = nullptr) {
    auto g = models::import_onnx(std::move(m));
    if (ops)
        for (const graph::Node& n : g->graph.nodes()) ops->push_back(std::string(n.op->name()));
    ThreadPool pool(2);
    graph::ExecContext ctx(pool, kernels::best_table());
    graph::Executor exec(g->graph);
    std::vector<graph::Tensor> in;
    for (Input& i : inputs) in.push_back({DType::F32, i.dims, i.v.data()});
    const std::vector<graph::Tensor> out = exec.run(ctx, in);
    std::vector<std::vector<float>> r;
    for (size_t o = 0; o < 2; o++) r.emplace_back(out[o].as<float>(), out[o].as<float>() + out[o].elements());
    return r;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST(OnnxFusions, RotateHalfAndSwigluGiveTheBitsOfTheirNodes) {
    // The export's shapes (cos [B, 1, S, hd] over heads), then cos broadcast from fewer dims.
    for (const graph::Dims& cos_dims : {graph::Dims{1, 1, 3, 8}, graph::Dims{3, 8}, graph::Dims{2, 1, 8}}) {
        const std::vector<Input> in = {filled({1, 2, 3, 8}, 0.1f), filled(cos_dims, 0.5f), filled(cos_dims, 0.9f), filled({1, 3, 6}, 1.3f)};
        std::vector<std::string> fused_ops, plain_ops;
        const auto fused = run(rope_and_mlp({}), in, &fused_ops);
        const auto plain = run(rope_and_mlp({"rot", "silu"}), in, &plain_ops);
        EXPECT_TRUE(contains(fused_ops, "RotateHalf") && contains(fused_ops, "swiglu"));
        EXPECT_EQ(fused_ops.size(), 4u);  // RotateHalf, the two MatMuls, swiglu
        EXPECT_FALSE(contains(plain_ops, "RotateHalf") || contains(plain_ops, "swiglu"));
        ASSERT_EQ(fused[0].size(), plain[0].size());
        EXPECT_EQ(std::memcmp(fused[0].data(), plain[0].data(), fused[0].size() * 4), 0);
        // swiglu's SIMD exp and single division against Sigmoid's libm exp, then two products
        ASSERT_EQ(fused[1].size(), plain[1].size());
        for (size_t i = 0; i < fused[1].size(); i++) EXPECT_NEAR(fused[1][i], plain[1][i], 1e-6f * (1.0f + std::fabs(plain[1][i]))) << i;
    }
}

TEST(OnnxFusions, RotateHalfNamesWhatDoesNotFit) {
    // x's last dim is not the pattern's 2 · half: the nodes would not rotate halves either.
    const std::vector<Input> in = {filled({1, 2, 3, 6}, 0.1f), filled({3, 6}, 0.5f), filled({3, 6}, 0.9f), filled({1, 3, 6}, 1.3f)};
    try {
        run(rope_and_mlp({}), in);
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("must end in the rotated dim 8"), std::string::npos) << e.what();
    }
}

// Weight-only int8 as torch.onnx exports it: w = Cast(q) · scale (per column) folds into
// one f32 constant, which the MatMul packs. Exp of a constant is not folded (no
// transcendental op is: the folded bytes must not depend on the CPU's libm).
TEST(OnnxFolding, DequantizedWeightsBecomeConstants) {
    onnx::Model m;
    m.opset_import = {{"", 17}};
    onnx::Graph& g = m.graph;
    g.inputs.push_back(unshaped("x"));
    const int8_t q[12] = {-128, -3, 0, 5, 127, 64, -64, 1, 2, -2, 100, -100};
    const float scale[4] = {0.5f, 0.25f, 2.0f, 0.125f};
    g.initializers.push_back(initializer("q", onnx::DataType::INT8, {3, 4}, q, sizeof q));
    g.initializers.push_back(initializer("scale", onnx::DataType::FLOAT, {1, 4}, scale, sizeof scale));
    onnx::Node cast;
    cast.op_type = "Cast";
    cast.inputs = {"q"};
    cast.outputs = {"qf"};
    cast.attributes.push_back(onnx::int_attribute("to", 1));
    g.nodes.push_back(std::move(cast));
    node(g, "Mul", {"qf", "scale"}, "w");
    node(g, "MatMul", {"x", "w"}, "y");
    node(g, "Exp", {"scale"}, "e");
    for (const char* out : {"y", "e"}) g.outputs.push_back(unshaped(out));

    const auto imported = models::import_onnx(std::move(m));
    const graph::Graph& ir = imported->graph;
    ASSERT_EQ(ir.nodes().size(), 2u);  // the MatMul and the Exp
    const graph::Value& w = ir.value(ir.find("w"));
    ASSERT_EQ(w.kind, graph::ValueKind::constant);
    ASSERT_EQ(w.dims, (graph::Dims{3, 4}));
    for (size_t i = 0; i < 12; i++) EXPECT_EQ(static_cast<const float*>(w.data)[i], q[i] * scale[i % 4]) << i;

    ThreadPool pool(1);
    graph::ExecContext ctx(pool, kernels::best_table());
    graph::Executor exec(ir);
    std::vector<float> x = {1, -2, 0.5f, 3, 0.25f, -1};
    const std::vector<graph::Tensor> out = exec.run(ctx, {{DType::F32, {2, 3}, x.data()}});
    ASSERT_EQ(out[0].dims, (graph::Dims{2, 4}));
    for (size_t r = 0; r < 2; r++)
        for (size_t c = 0; c < 4; c++) {
            float want = 0;
            for (size_t k = 0; k < 3; k++) want += x[r * 3 + k] * q[k * 4 + c] * scale[c];
            EXPECT_NEAR(out[0].as<float>()[r * 4 + c], want, 1e-4f) << r << "," << c;
        }
}

namespace {

void scalar(onnx::Graph& g, const std::string& name, float v) { g.initializers.push_back(initializer(name, onnx::DataType::FLOAT, {}, &v, 4)); }

// x [.., 6] · w [6, 5] + bias, then the exact GELU written out as torch.onnx writes it
// (torch = true: Mul(h, Mul(Add(Erf(Div(h, √2)), 1), 0.5))) or as bench/bert_onnx.py does
// (Mul(Mul(h, Add(Erf(Mul(h, 1/√2)), 1)), 0.5)); `extra` names values made outputs too.
onnx::Model dense_gelu(bool torch, const std::vector<std::string>& extra) {
    onnx::Model m;
    m.opset_import = {{"", 17}};
    onnx::Graph& g = m.graph;
    g.inputs.push_back(unshaped("x"));
    std::vector<float> w(6 * 5), b(5);
    for (size_t i = 0; i < w.size(); i++) w[i] = 0.7f * std::sin(static_cast<float>(i) * 0.9f);
    for (size_t i = 0; i < b.size(); i++) b[i] = 0.1f * static_cast<float>(i) - 0.2f;
    g.initializers.push_back(initializer("w", onnx::DataType::FLOAT, {6, 5}, w.data(), w.size() * 4));
    g.initializers.push_back(initializer("b", onnx::DataType::FLOAT, {5}, b.data(), b.size() * 4));
    scalar(g, "one", 1.0f), scalar(g, "half", 0.5f), scalar(g, "sqrt2", std::sqrt(2.0f)), scalar(g, "rsqrt2", 1 / std::sqrt(2.0f));
    node(g, "MatMul", {"x", "w"}, "mm");
    node(g, "Add", {"b", "mm"}, "h");  // bias first: either order matches
    if (torch) {
        node(g, "Div", {"h", "sqrt2"}, "s");
        node(g, "Erf", {"s"}, "e");
        node(g, "Add", {"e", "one"}, "e1");
        node(g, "Mul", {"half", "e1"}, "e2");
        node(g, "Mul", {"h", "e2"}, "y");
    } else {
        node(g, "Mul", {"h", "rsqrt2"}, "s");
        node(g, "Erf", {"s"}, "e");
        node(g, "Add", {"one", "e"}, "e1");
        node(g, "Mul", {"h", "e1"}, "e2");
        node(g, "Mul", {"e2", "half"}, "y");
    }
    g.outputs.push_back(unshaped("y"));
    for (const std::string& out : extra) g.outputs.push_back(unshaped(out));
    return m;
}

}  // namespace

// A dense layer and its GELU become one dense+gelu op (the GEMM's SIMD erf within 1.5e-7
// of libm's); with h read elsewhere too, only the MatMul and the bias Add are fused.
TEST(OnnxFusions, DenseLayerWithGeluBecomesOneOp) {
    for (bool torch : {true, false}) {
        std::vector<std::string> fused_ops, plain_ops;
        const std::vector<Input> in = {filled({2, 3, 6}, 0.4f)};
        auto run_y = [&](onnx::Model m, std::vector<std::string>& ops) {
            auto g = models::import_onnx(std::move(m));
            for (const graph::Node& n : g->graph.nodes()) ops.push_back(std::string(n.op->name()));
            ThreadPool pool(1);
            graph::ExecContext ctx(pool, kernels::best_table());
            graph::Executor exec(g->graph);
            std::vector<float> x = in[0].v;
            const std::vector<graph::Tensor> out = exec.run(ctx, {{DType::F32, in[0].dims, x.data()}});
            EXPECT_EQ(out[0].dims, (graph::Dims{2, 3, 5}));
            return std::vector<float>(out[0].as<float>(), out[0].as<float>() + out[0].elements());
        };
        const std::vector<float> fused = run_y(dense_gelu(torch, {}), fused_ops), plain = run_y(dense_gelu(torch, {"h"}), plain_ops);
        EXPECT_EQ(fused_ops, std::vector<std::string>{"dense+gelu"}) << torch;
        EXPECT_TRUE(contains(plain_ops, "dense") && !contains(plain_ops, "dense+gelu")) << torch;  // the GELU's nodes stay
        ASSERT_EQ(fused.size(), plain.size());
        for (size_t i = 0; i < fused.size(); i++) EXPECT_NEAR(fused[i], plain[i], 1e-6f * (1.0f + std::fabs(plain[i]))) << torch << " " << i;
    }
}
