#include <algorithm>
#include <optional>
#include <span>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"
#include "ops/packed_tiles.hpp"

namespace lmx::ops {

// x's rows in act_type: x itself when a fused norm already quantized them
// (rms_norm_quantize), else quantized into ctx's scratch.
static QuantizedRows quantize_rows(graph::ExecContext& ctx, const Tensor& x, DType act_type) {
    const int64_t rows = x.rows(), k = x.cols();
    const size_t a_bytes = dtype_row_bytes(act_type, k);
    if (x.dtype == act_type) return {x.as<uint8_t>(), a_bytes, rows};
    auto* act = static_cast<uint8_t*>(ctx.scratch(a_bytes * static_cast<size_t>(rows)));
    const auto quantize = ctx.kernels.quantize[static_cast<int>(act_type)];
    parallel_for(ctx, rows, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; r++) quantize(x.as<float>() + r * k, act + static_cast<size_t>(r) * a_bytes, k);
    });
    return {act, a_bytes, rows};
}

// x quantized once (the members share its activation type), then one pass over the tiles
// of all members (ops/packed_tiles.hpp).
static void packed_pass(graph::ExecContext& ctx, const Tensor& x, std::span<const PackedMember> ms) {
    packed_members(ctx, quantize_rows(ctx, x, kernels::act_type_of(ms[0].w->dtype())), ms);
}

// Whether a repacked weight runs its packed kernel: always in the fast path; in
// deterministic mode only where that kernel returns the scalar row dot's bits.
static bool takes_packed(const graph::ExecContext& ctx, const kernels::PackedWeights& w) {
    return !ctx.deterministic || kernels::PackedWeights::equals_row_dot(w.dtype());
}

// x · wᵀ (+ bias) with the row kernels over w's own rows: every (weight row, activation
// row) pair is one vec_dot, or one vec_dot_rows per group of activation rows.
static void row_matmul(graph::ExecContext& ctx, const Tensor& x, const Tensor& w, const float* bias, float* y) {
    const int64_t rows = x.rows(), k = x.cols(), n = w.dims[0];
    const auto& wk = ctx.kernels.weight[static_cast<int>(w.dtype)];
    if (!wk.vec_dot) fail("matmul: no kernel for ", dtype_name(w.dtype), " weights");
    const QuantizedRows a = quantize_rows(ctx, x, wk.act_type);
    const size_t w_bytes = dtype_row_bytes(w.dtype, k);
    const uint8_t* wd = w.as<uint8_t>();
    // Weight rows in tiles of about kTileBytes, every activation group passing over a
    // tile before the next: a group is then read from L3 once per tile, not once per
    // weight row (for a long prompt the quantized activations outgrow L2: 128 rows of
    // 8960 Q8_K values are 1.3 MB).
    constexpr size_t kTileBytes = 128 * 1024;
    // No software prefetch: rows are read in order, which the hardware prefetcher follows.
    // Prefetching 8 KB ahead, as the packed kernels do, made Qwen2.5's decoding (its Q6_K
    // weights come here) 20% slower on the Zen 4 host of docs/benchmarks.md's session 13.
    const int64_t tile = std::max<int64_t>(1, static_cast<int64_t>(kTileBytes / w_bytes));
    parallel_for(ctx, n, [&](int64_t b, int64_t e) {
        const void* act[kernels::kMaxDotRows];
        float dots[kernels::kMaxDotRows];
        for (int64_t j0 = b; j0 < e; j0 += tile) {
            const int64_t j1 = std::min(e, j0 + tile);
            auto group = [&](int64_t r, int nr) {
                for (int i = 0; i < nr; i++) act[i] = a.row(r + i);
                for (int64_t j = j0; j < j1; j++) {
                    const uint8_t* wrow = wd + static_cast<size_t>(j) * w_bytes;
                    const float bj = bias ? bias[j] : 0.0f;
                    if (nr > 1) {  // the weight row is unpacked once for the group
                        wk.vec_dot_rows(k, wrow, act, nr, dots);
                        for (int i = 0; i < nr; i++) y[(r + i) * n + j] = dots[i] + bj;
                    } else {
                        y[r * n + j] = wk.vec_dot(k, wrow, act[0]) + bj;
                    }
                }
            };
            if (wk.vec_dot_rows) kernels::for_row_groups(rows, group);
            else for (int64_t r = 0; r < rows; r++) group(r, 1);
        }
    });
}

// x · wᵀ with w in any dtype the kernels support. Activations are quantized once to
// the weight type's activation format (as llama.cpp does, so numerics follow it),
// then every (weight row, activation row) pair is one vec_dot. Threads split the
// weight rows, so each thread streams a disjoint slice of the weights.
class MatMul final : public NamedOp {
public:
    explicit MatMul(std::shared_ptr<const kernels::PackedWeights> packed = nullptr) : NamedOp("matmul"), packed_(std::move(packed)) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 3);
        const Dims& x = in[0]->dims;
        const Dims& w = in[1]->dims;
        require(w.size() == 2, "weight must be 2-D, got ", graph::dims_text(w));
        require(static_cast<int>(in[1]->dtype) < kernels::kMaxDType && dtype_info(in[1]->dtype).in_ggml, "no kernel for ",
                dtype_name(in[1]->dtype), " weights");
        require(in[0]->dtype == DType::F32 || in[0]->dtype == kernels::act_type_of(in[1]->dtype), "x must be f32 or already ",
                dtype_name(kernels::act_type_of(in[1]->dtype)), ", got ", dtype_name(in[0]->dtype));
        require(!x.empty() && x.back() == w[1], "x ", graph::dims_text(x), " does not match weight ",
                graph::dims_text(w));
        require(w[1] % dtype_info(in[1]->dtype).block_elems == 0, "weight rows of ", w[1],
                " are not whole ", dtype_name(in[1]->dtype), " blocks");
        if (in.size() == 3) require(in[2]->dims == Dims{w[0]} && in[2]->dtype == DType::F32, "bias must be f32 [N]");
        if (packed_)
            require(in[1]->dtype == packed_->dtype() && packed_->n() == w[0] && packed_->k() == w[1], "the repacked weight is not ",
                    dtype_name(in[1]->dtype), " ", graph::dims_text(w));
        Dims y = x;
        y.back() = w[0];
        return {{DType::F32, y}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float* bias = in.size() == 3 ? in[2].as<float>() : nullptr;
        const kernels::PackedFn packed = packed_ ? ctx.kernels.packed[static_cast<int>(packed_->layout())] : nullptr;
        // Every row count takes the packed kernel, so batching never changes a result (the q8
        // layout's byte per weight costs Gemma-3's Q5_0 decoding ~10%: its 5.5 bits become 8).
        if (packed && takes_packed(ctx, *packed_)) {
            const PackedMember m{packed, packed_.get(), bias, out[0].as<float>()};
            packed_pass(ctx, in[0], {&m, 1});
            return;
        }
        row_matmul(ctx, in[0], in[1], bias, out[0].as<float>());
    }

    const std::shared_ptr<const kernels::PackedWeights>& packed() const { return packed_; }

private:
    std::shared_ptr<const kernels::PackedWeights> packed_;
};

// Several weights that multiply the same x (a layer's q, k and v projections; gate and
// up), repacked with one activation type: x is quantized once and one parallel pass
// covers the tiles of all of them, so a layer waits for its threads once, not once per
// weight. Each output is bit-identical to its own packed matmul (same kernel per tile).
class MatMulGroup final : public NamedOp {
public:
    MatMulGroup(std::vector<std::shared_ptr<const kernels::PackedWeights>> packed, std::vector<bool> has_bias)
        : NamedOp("matmul"), packed_(std::move(packed)), has_bias_(std::move(has_bias)) {
        require(!packed_.empty() && packed_.size() == has_bias_.size(), "a matmul group needs a bias flag per weight");
        require(std::all_of(packed_.begin(), packed_.end(), [](const auto& p) { return p != nullptr; }),
                "every weight of a matmul group must be repacked");
        require(std::all_of(packed_.begin(), packed_.end(), [&](const auto& p) { return kernels::act_type_of(p->dtype()) == act_type(); }),
                "the weights of a matmul group must share one activation type");
        size_t i = 1;  // inputs: x, then each weight followed by its bias when it has one
        for (bool b : has_bias_) w_input_.push_back(i), i += b ? 2 : 1;
        n_inputs_ = i;
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, n_inputs_, n_inputs_);
        std::vector<OutputSpec> outs;
        for (size_t m = 0; m < packed_.size(); m++) {
            const size_t i = w_input_[m];
            const Value* const member[3] = {in[0], in[i], has_bias_[m] ? in[i + 1] : nullptr};
            require(packed_[m]->k() == packed_[0]->k(), "the weights of a matmul group differ in width");
            outs.push_back(MatMul(packed_[m]).infer(std::span(member, has_bias_[m] ? 3 : 2)).at(0));
        }
        return outs;
    }

    DType act_type() const { return kernels::act_type_of(packed_[0]->dtype()); }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        std::vector<PackedMember> ms;
        for (size_t m = 0; m < packed_.size(); m++)
            ms.push_back({ctx.kernels.packed[static_cast<int>(packed_[m]->layout())], packed_[m].get(),
                          has_bias_[m] ? in[w_input_[m] + 1].as<float>() : nullptr, out[m].as<float>()});
        const bool all_packed = std::all_of(ms.begin(), ms.end(), [&](const PackedMember& m) { return m.fn && takes_packed(ctx, *m.w); });
        if (all_packed) return packed_pass(ctx, in[0], ms);
        for (size_t m = 0; m < ms.size(); m++) row_matmul(ctx, in[0], in[w_input_[m]], ms[m].bias, ms[m].y);  // the file's rows
    }

private:
    std::vector<std::shared_ptr<const kernels::PackedWeights>> packed_;
    std::vector<bool> has_bias_;
    std::vector<size_t> w_input_;  // the input index of each weight
    size_t n_inputs_ = 0;
};

OpPtr matmul() { return std::make_shared<MatMul>(); }
OpPtr matmul(std::shared_ptr<const kernels::PackedWeights> packed) { return std::make_shared<MatMul>(std::move(packed)); }
OpPtr matmul_group(std::vector<std::shared_ptr<const kernels::PackedWeights>> packed, std::vector<bool> has_bias) {
    return std::make_shared<MatMulGroup>(std::move(packed), std::move(has_bias));
}

std::shared_ptr<const kernels::PackedWeights> packed_weight(const graph::Op& op) {
    const auto* m = dynamic_cast<const MatMul*>(&op);
    return m ? m->packed() : nullptr;
}

std::optional<DType> quantized_input_type(const graph::Graph& g, const graph::Node& node) {
    DType act;
    if (const auto* group = dynamic_cast<const MatMulGroup*>(node.op.get())) act = group->act_type();
    else if (dynamic_cast<const MatMul*>(node.op.get())) act = kernels::act_type_of(g.value(node.inputs.at(1)).dtype);
    else return std::nullopt;
    if (!dtype_info(act).quantized) return std::nullopt;
    return act;
}

}  // namespace lmx::ops
