#include <gtest/gtest.h>

#include <cstring>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "graph/executor.hpp"
#include "kernels/kernels.hpp"

using namespace lmx;
using namespace lmx::graph;

namespace {

// y = a + b elementwise, counting how often it ran.
class AddOp final : public Op {
public:
    std::string_view name() const override { return "test_add"; }
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        if (in.size() != 2 || in[0]->dims != in[1]->dims) fail("dims differ");
        return {{DType::F32, in[0]->dims}};
    }
    void run(ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        for (int64_t i = 0; i < in[0].elements(); i++) out[0].as<float>()[i] = in[0].as<float>()[i] + in[1].as<float>()[i];
    }
};

// AddOp that may write over its first input (graph::Op::in_place_input), counting the
// runs in which it did.
class AddInPlaceOp final : public Op {
public:
    std::string_view name() const override { return "test_add_in_place"; }
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override { return AddOp().infer(in); }
    void run(ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        written_over += in[0].data == out[0].data;
        AddOp().run(ctx, in, out);
    }
    int in_place_input() const override { return 0; }
    mutable int written_over = 0;
};

}  // namespace

TEST(Graph, ShapeMismatchIsReportedAtBuildTime) {
    Graph g;
    ValueId a = g.add_input("a", DType::F32, {kTokens, 4});
    ValueId b = g.add_input("b", DType::F32, {kTokens, 5});
    try {
        g.add(std::make_shared<AddOp>(), {a, b}, "sum");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("node 'sum' (test_add)"), std::string::npos) << e.what();
    }
}

// A long chain whose intermediates die quickly: the planner must reuse memory
// (arena far smaller than the sum of all values) and still compute the right sums.
TEST(Executor, ReusesBuffersAndComputesChain) {
    Graph g;
    ValueId x = g.add_input("x", DType::F32, {kTokens, 8});
    ValueId one = g.add_input("one", DType::F32, {kTokens, 8});
    auto op = std::make_shared<AddOp>();
    ValueId v = x;
    for (int i = 0; i < 50; i++) v = g.add(op, {v, one}, "step" + std::to_string(i));
    g.mark_output(v);

    ThreadPool pool(1);
    ExecContext ctx(pool, kernels::table(kernels::Isa::scalar));
    Executor ex(g);
    for (int64_t t : {3, 1, 7}) {
        std::vector<float> xs(static_cast<size_t>(t * 8)), ones(xs.size(), 1.0f);
        for (size_t i = 0; i < xs.size(); i++) xs[i] = static_cast<float>(i);
        auto out = ex.run(ctx, {{DType::F32, {t, 8}, xs.data()}, {DType::F32, {t, 8}, ones.data()}});
        ASSERT_EQ(out[0].dims, (Dims{t, 8}));
        for (size_t i = 0; i < xs.size(); i++) EXPECT_EQ(out[0].as<float>()[i], static_cast<float>(i) + 50);
        EXPECT_LE(ex.arena_bytes(), 4 * static_cast<size_t>(t) * 8 * sizeof(float) + 256);
    }
}

// A chain of in-place adds runs in the one buffer its first (not in place) step made; a
// value still read later keeps its own buffer, and a graph input is never written over.
TEST(Executor, InPlaceOpsTakeOverADyingInput) {
    Graph g;
    ValueId x = g.add_input("x", DType::F32, {kTokens, 16});
    ValueId one = g.add_input("one", DType::F32, {kTokens, 16});
    auto in_place = std::make_shared<AddInPlaceOp>();
    ValueId v = g.add(in_place, {x, one}, "from_input");  // x is an input: a new buffer
    for (int i = 0; i < 10; i++) v = g.add(in_place, {v, one}, "step" + std::to_string(i));
    ValueId kept = v;
    ValueId w = g.add(in_place, {kept, one}, "over_kept");  // kept is read again below
    g.mark_output(g.add(std::make_shared<AddOp>(), {kept, w}, "sum"));

    ThreadPool pool(1);
    ExecContext ctx(pool, kernels::table(kernels::Isa::scalar));
    Executor ex(g);
    const int64_t t = 4;
    std::vector<float> xs(static_cast<size_t>(t * 16)), ones(xs.size(), 1.0f);
    for (size_t i = 0; i < xs.size(); i++) xs[i] = static_cast<float>(i);
    const std::vector<float> x_before = xs;
    Tensor out = ex.run(ctx, {{DType::F32, {t, 16}, xs.data()}, {DType::F32, {t, 16}, ones.data()}}).at(0);
    for (size_t i = 0; i < xs.size(); i++) EXPECT_EQ(out.as<float>()[i], 2 * (static_cast<float>(i) + 11) + 1) << i;
    EXPECT_EQ(xs, x_before);
    EXPECT_EQ(in_place->written_over, 10);  // the steps; not from_input, not over_kept
}

TEST(Executor, RejectsInconsistentInputs) {
    Graph g;
    ValueId a = g.add_input("a", DType::F32, {kTokens, 2});
    ValueId b = g.add_input("b", DType::F32, {kTokens, 2});
    g.mark_output(g.add(std::make_shared<AddOp>(), {a, b}, "sum"));
    ThreadPool pool(1);
    ExecContext ctx(pool, kernels::table(kernels::Isa::scalar));
    Executor ex(g);
    std::vector<float> buf(64);
    EXPECT_THROW(ex.run(ctx, {{DType::F32, {2, 2}, buf.data()}, {DType::F32, {3, 2}, buf.data()}}), Error);
    EXPECT_THROW(ex.run(ctx, {{DType::F32, {2, 3}, buf.data()}, {DType::F32, {2, 3}, buf.data()}}), Error);
    EXPECT_THROW(ex.run(ctx, {{DType::F32, {2, 2}, buf.data()}}), Error);
}

// A graph without symbolic dims is planned on its first run too.
TEST(Executor, RunsGraphWithStaticDims) {
    Graph g;
    ValueId a = g.add_input("a", DType::F32, {2, 2});
    ValueId b = g.add_input("b", DType::F32, {2, 2});
    g.mark_output(g.add(std::make_shared<AddOp>(), {g.add(std::make_shared<AddOp>(), {a, b}, "s1"), b}, "s2"));
    ThreadPool pool(1);
    ExecContext ctx(pool, kernels::table(kernels::Isa::scalar));
    Executor ex(g);
    std::vector<float> x = {1, 2, 3, 4}, y = {10, 20, 30, 40};
    for (int rep = 0; rep < 2; rep++) {
        Tensor out = ex.run(ctx, {{DType::F32, {2, 2}, x.data()}, {DType::F32, {2, 2}, y.data()}}).at(0);
        for (size_t i = 0; i < 4; i++) EXPECT_EQ(out.as<float>()[i], x[i] + 2 * y[i]);
    }
}
