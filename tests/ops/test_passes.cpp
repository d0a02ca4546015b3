// The graph passes (ops/passes.hpp) against the plain graph they rewrite: the same bits
// in the fast and the deterministic mode, and no rewrite where it would change a result.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "kernels/packed_weights.hpp"
#include "op_test_util.hpp"
#include "ops/passes.hpp"

using namespace lmx;
using namespace lmx::graph;
using lmx::test::f32;
using lmx::test::random_vec;

namespace {

constexpr int64_t kK = 256;

// n rows of k random Q4_1 blocks (act type Q8_1) or Q8_0 blocks (Q8_0), from f32 weights.
std::vector<uint8_t> random_weight(DType t, int64_t n, uint32_t seed) {
    const auto wf = random_vec(static_cast<size_t>(n * kK), seed, 0.05f);
    const size_t row = dtype_row_bytes(t, kK);
    std::vector<uint8_t> w(row * static_cast<size_t>(n));
    for (int64_t j = 0; j < n; j++) {
        uint8_t* out = w.data() + static_cast<size_t>(j) * row;
        const float* x = wf.data() + j * kK;
        if (t == DType::Q8_0) {
            kernels::table(kernels::Isa::scalar).quantize[int(DType::Q8_0)](x, out, kK);
            continue;
        }
        for (int64_t b = 0; b < kK / 32; b++, out += 20, x += 32) {  // Q4_1: d, m (fp16), 32 nibbles
            float lo = x[0], hi = x[0];
            for (int i = 1; i < 32; i++) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
            const float d = (hi - lo) / 15.0f;
            const uint16_t dh = fp32_to_fp16(d), mh = fp32_to_fp16(lo);
            std::memcpy(out, &dh, 2);
            std::memcpy(out + 2, &mh, 2);
            for (int i = 0; i < 16; i++) {
                auto q = [&](float v) { return static_cast<uint8_t>(std::clamp(static_cast<int>((v - lo) / d + 0.5f), 0, 15)); };
                out[4 + i] = static_cast<uint8_t>(q(x[i]) | q(x[i + 16]) << 4);
            }
        }
    }
    return w;
}

// prefix + m, built by appending: g++ 12 warns falsely (-Wrestrict) on operator+ here
std::string numbered(const char* prefix, size_t m) { return std::string(prefix).append(std::to_string(m)); }

struct Weight {
    DType type;
    int64_t n;
    std::vector<uint8_t> bytes;
    std::vector<float> bias;  // empty: none
};

// x → rms_norm → one matmul per weight (packed when asked), outputs marked; `extra`
// lets a test add readers of the norm's output h.
struct Layer {
    Graph g;
    std::vector<float> norm_w = random_vec(kK, 3);
    ValueId x, h;
    Layer(std::vector<Weight>& ws, bool packed, const std::function<void(Layer&)>& extra = {}) {
        x = g.add_input("x", DType::F32, {kTokens, kK});
        h = g.add(ops::rms_norm(1e-5f), {x, g.add_constant("norm", DType::F32, {kK}, norm_w.data())}, "norm");
        for (size_t m = 0; m < ws.size(); m++) {
            Weight& w = ws[m];
            std::vector<ValueId> args = {h, g.add_constant(numbered("w", m), w.type, {w.n, kK}, w.bytes.data())};
            if (!w.bias.empty()) args.push_back(g.add_constant(numbered("b", m), DType::F32, {w.n}, w.bias.data()));
            auto op = packed ? ops::matmul(std::make_shared<const kernels::PackedWeights>(w.type, w.bytes.data(), w.n, kK)) : ops::matmul();
            g.mark_output(g.add(op, args, numbered("y", m)));
        }
        if (extra) extra(*this);
    }
};

std::vector<std::vector<float>> run(const Graph& g, int64_t rows, bool deterministic) {
    auto xs = random_vec(static_cast<size_t>(rows * kK), 100 + uint32_t(rows));
    ThreadPool pool(2);
    ExecContext ctx(pool, deterministic ? kernels::deterministic_table(kernels::best_table().isa) : kernels::best_table());
    ctx.deterministic = deterministic;
    Executor ex(g);
    std::vector<std::vector<float>> out;
    for (const Tensor& t : ex.run(ctx, {f32(xs, {rows, kK})})) out.emplace_back(t.as<float>(), t.as<float>() + t.elements());
    return out;
}

// Every output of the rewritten graph equals the plain graph's bit for bit.
void expect_same_bits(const Graph& plain, const Graph& fused) {
    for (bool det : {false, true})
        for (int64_t rows : {1, 3, 7}) {
            const auto a = run(plain, rows, det), b = run(fused, rows, det);
            ASSERT_EQ(a.size(), b.size());
            for (size_t o = 0; o < a.size(); o++) {
                ASSERT_EQ(a[o].size(), b[o].size());
                for (size_t i = 0; i < a[o].size(); i++)
                    ASSERT_EQ(std::bit_cast<uint32_t>(a[o][i]), std::bit_cast<uint32_t>(b[o][i]))
                        << "output " << o << " element " << i << " rows " << rows << (det ? " (deterministic)" : "");
            }
        }
}

std::vector<std::string> op_names(const Graph& g) {
    std::vector<std::string> names;
    for (const Node& n : g.nodes()) names.emplace_back(n.op->name());
    return names;
}

std::vector<Weight> qkv() {
    return {{DType::Q8_0, 64, random_weight(DType::Q8_0, 64, 11), random_vec(64, 21)},
            {DType::Q8_0, 32, random_weight(DType::Q8_0, 32, 12), {}},
            {DType::Q8_0, 32, random_weight(DType::Q8_0, 32, 13), random_vec(32, 23)}};
}

}  // namespace

// A layer's norm and its q, k, v projections become two nodes: the norm quantizing to
// Q8_0 and one matmul group, with the plain graph's bits.
TEST(Passes, NormAndProjectionsFuseWithTheSameBits) {
    auto ws = qkv();
    Layer plain(ws, true);
    Graph fused = plain.g;
    EXPECT_EQ(ops::group_matmuls(fused), 1);
    EXPECT_EQ(ops::quantize_in_norms(fused), 1);
    EXPECT_EQ(op_names(fused), (std::vector<std::string>{"rms_norm_quantize", "matmul"}));
    EXPECT_EQ(fused.value(plain.h).dtype, DType::Q8_0);
    expect_same_bits(plain.g, fused);
}

// Weights with different activation types: the larger set is grouped, the other stays a
// matmul of its own, and the norm keeps f32 rows (its readers want two formats).
TEST(Passes, MixedActivationTypesGroupTheLargerSetAndKeepTheNorm) {
    auto ws = qkv();
    ws[1] = {DType::Q4_1, 32, random_weight(DType::Q4_1, 32, 14), {}};
    Layer plain(ws, true);
    Graph fused = plain.g;
    ops::fuse_decoder(fused);
    EXPECT_EQ(op_names(fused), (std::vector<std::string>{"rms_norm", "matmul", "matmul"}));
    EXPECT_EQ(fused.nodes()[1].outputs.size(), 2u);  // y0 and y2, the Q8_0 pair
    expect_same_bits(plain.g, fused);
}

// A norm read by something other than a matmul, or marked a graph output, stays f32;
// unpacked matmuls are not grouped but take quantized rows from the norm.
TEST(Passes, NormReadElsewhereIsNotFused) {
    auto ws = qkv();
    Layer read_by_add(ws, true, [](Layer& l) { l.g.mark_output(l.g.add(ops::add(), {l.h, l.x}, "residual")); });
    Graph a = read_by_add.g;
    ops::fuse_decoder(a);
    EXPECT_EQ(op_names(a), (std::vector<std::string>{"rms_norm", "matmul", "add"}));
    expect_same_bits(read_by_add.g, a);

    Layer output(ws, true, [](Layer& l) { l.g.mark_output(l.h); });
    Graph b = output.g;
    EXPECT_EQ(ops::quantize_in_norms(b), 0);

    Layer unpacked(ws, false);
    Graph c = unpacked.g;
    ops::fuse_decoder(c);
    EXPECT_EQ(op_names(c), (std::vector<std::string>{"rms_norm_quantize", "matmul", "matmul", "matmul"}));
    expect_same_bits(unpacked.g, c);
}

// set_nodes checks what a pass hands it.
TEST(Passes, RewriteIsChecked) {
    auto ws = qkv();
    Layer l(ws, true);
    std::vector<Node> reversed(l.g.nodes().rbegin(), l.g.nodes().rend());
    EXPECT_THROW(l.g.set_nodes(reversed), Error);  // a matmul before its norm
    std::vector<Node> dropped(l.g.nodes().begin(), l.g.nodes().end() - 1);
    EXPECT_THROW(l.g.set_nodes(dropped), Error);  // an output no longer computed
    std::vector<Node> twice = l.g.nodes();
    twice.push_back(twice.back());
    EXPECT_THROW(l.g.set_nodes(twice), Error);  // a value computed twice
}
