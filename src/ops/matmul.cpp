#include <algorithm>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

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
        require(in[0]->dtype == DType::F32, "x must be f32");
        require(w.size() == 2, "weight must be 2-D, got ", graph::dims_to_string(w));
        require(static_cast<int>(in[1]->dtype) < kernels::kMaxDType && dtype_info(in[1]->dtype).in_ggml, "no kernel for ",
                dtype_name(in[1]->dtype), " weights");
        require(!x.empty() && x.back() == w[1], "x ", graph::dims_to_string(x), " does not match weight ",
                graph::dims_to_string(w));
        require(w[1] % dtype_info(in[1]->dtype).block_elems == 0, "weight rows of ", w[1],
                " are not whole ", dtype_name(in[1]->dtype), " blocks");
        if (in.size() == 3) require(in[2]->dims == Dims{w[0]} && in[2]->dtype == DType::F32, "bias must be f32 [N]");
        if (packed_)
            require(in[1]->dtype == packed_->dtype() && packed_->n() == w[0] && packed_->k() == w[1], "the repacked weight is not ",
                    dtype_name(in[1]->dtype), " ", graph::dims_to_string(w));
        Dims y = x;
        y.back() = w[0];
        return {{DType::F32, y}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Tensor &x = in[0], &w = in[1];
        const int64_t rows = x.rows(), k = x.cols(), n = w.dims[0];
        const auto& wk = ctx.kernels.weight[static_cast<int>(w.dtype)];
        if (!wk.vec_dot) fail("matmul: no kernel for ", dtype_name(w.dtype), " weights");
        const size_t a_bytes = dtype_row_bytes(wk.act_type, k);
        const size_t w_bytes = dtype_row_bytes(w.dtype, k);
        auto* act = static_cast<uint8_t*>(ctx.scratch(a_bytes * static_cast<size_t>(rows)));
        const auto quantize = ctx.kernels.quantize[static_cast<int>(wk.act_type)];
        parallel_for(ctx, rows, [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; r++) quantize(x.as<float>() + r * k, act + static_cast<size_t>(r) * a_bytes, k);
        });
        const float* bias = in.size() == 3 ? in[2].as<float>() : nullptr;
        float* y = out[0].as<float>();
        const kernels::PackedFn packed = packed_ ? ctx.kernels.packed[static_cast<int>(packed_->layout())] : nullptr;
        // Every row count takes the packed kernel, so batching never changes a result (the q8
        // layout's byte per weight costs Gemma-3's Q5_0 decoding ~10%: its 5.5 bits become 8).
        if (packed && !ctx.deterministic) {
            run_packed(ctx, packed, act, a_bytes, rows, bias, y);
            return;
        }
        const uint8_t* wd = w.as<uint8_t>();
        // Weight rows in tiles of about kTileBytes, every activation group passing over a
        // tile before the next: a group is then read from L3 once per tile, not once per
        // weight row (for a long prompt the quantized activations outgrow L2: 128 rows of
        // 8960 Q8_K values are 1.3 MB).
        constexpr size_t kTileBytes = 128 * 1024;
        // One group of activation rows streams the weights from memory once: software
        // prefetch keeps DRAM busy ahead of the kernel (this VM's hardware prefetch does not).
        const bool stream = rows <= kernels::kMaxDotRows;
        constexpr size_t kPrefetchAhead = 8 * 1024;
        const int64_t tile = std::max<int64_t>(1, static_cast<int64_t>(kTileBytes / w_bytes));
        parallel_for(ctx, n, [&](int64_t b, int64_t e) {
            const void* a[kernels::kMaxDotRows];
            float dots[kernels::kMaxDotRows];
            for (int64_t j0 = b; j0 < e; j0 += tile) {
                const int64_t j1 = std::min(e, j0 + tile);
                auto group = [&](int64_t r, int nr) {
                    for (int i = 0; i < nr; i++) a[i] = act + static_cast<size_t>(r + i) * a_bytes;
                    for (int64_t j = j0; j < j1; j++) {
                        const uint8_t* wrow = wd + static_cast<size_t>(j) * w_bytes;
                        if (stream)
                            for (size_t o = 0; o < w_bytes; o += 64) __builtin_prefetch(wrow + kPrefetchAhead + o);
                        const float bj = bias ? bias[j] : 0.0f;
                        if (nr > 1) {  // the weight row is unpacked once for the group
                            wk.vec_dot_rows(k, wrow, a, nr, dots);
                            for (int i = 0; i < nr; i++) y[(r + i) * n + j] = dots[i] + bj;
                        } else {
                            y[r * n + j] = wk.vec_dot(k, wrow, a[0]) + bj;
                        }
                    }
                };
                if (wk.vec_dot_rows) kernels::for_row_groups(rows, group);
                else for (int64_t r = 0; r < rows; r++) group(r, 1);
            }
        });
    }

private:
    // Threads split the 16-row tiles; each tile (Q4_K, k = 1536: 15 KB) stays in L1 while
    // every group of activation rows passes over it.
    void run_packed(graph::ExecContext& ctx, kernels::PackedFn packed, const uint8_t* act, size_t a_bytes, int64_t rows, const float* bias,
                    float* y) const {
        const int64_t n = packed_->n(), k = packed_->k();
        parallel_for(ctx, n / kernels::kPackedRows, [&](int64_t b, int64_t e) {
            const void* a[kernels::kMaxDotRows];
            for (int64_t t = b; t < e; t++) {
                const int64_t c0 = t * kernels::kPackedRows;
                kernels::for_row_groups(rows, [&](int64_t r, int nr) {
                    for (int i = 0; i < nr; i++) a[i] = act + static_cast<size_t>(r + i) * a_bytes;
                    packed(k, packed_->tile(t), a, nr, y + r * n + c0, n);
                    if (bias)
                        for (int i = 0; i < nr; i++)
                            for (int c = 0; c < kernels::kPackedRows; c++) y[(r + i) * n + c0 + c] += bias[c0 + c];
                });
            }
        });
    }

    std::shared_ptr<const kernels::PackedWeights> packed_;
};

OpPtr matmul() { return std::make_shared<MatMul>(); }
OpPtr matmul(std::shared_ptr<const kernels::PackedWeights> packed) { return std::make_shared<MatMul>(std::move(packed)); }

}  // namespace lmx::ops
