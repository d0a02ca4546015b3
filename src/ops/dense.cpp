#include <algorithm>
#include <memory>
#include <vector>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// A dense layer over f32 weights packed in panels (kernels.hpp), in bf16 where the op has
// a bf16 copy and the table native bf16 products: tasks are (block of rows, two panels),
// a thread's contiguous range walking the panels of one row block so that block stays in
// L2; each task passes over k in ranges whose two panels (16 KB) stay in L1 with the rows
// of a that meet them.
class Dense final : public NamedOp {
public:
    Dense(int64_t n, bool gelu, std::shared_ptr<const std::vector<uint32_t>> bf16)
        : NamedOp(gelu ? "dense+gelu" : "dense"), n_(n), gelu_(gelu), bf16_(std::move(bf16)) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 3);
        require(n_ > 0, "needs an output width");
        const Dims& x = in[0]->dims;
        require(in[0]->dtype == DType::F32 && !x.empty(), "x must be f32 [..., K]");
        require(in[1]->dtype == DType::F32 && in[1]->dims == Dims{kernels::f32_panels(n_), x.back(), kernels::kF32Panel},
                "w must be f32 panels [", kernels::f32_panels(n_), ", ", x.back(), ", ", kernels::kF32Panel, "], got ",
                graph::dims_text(in[1]->dims));
        if (in.size() == 3) require(in[2]->dtype == DType::F32 && in[2]->dims == Dims{n_}, "bias must be f32 [", n_, "]");
        Dims y = x;
        y.back() = n_;
        return {{DType::F32, y}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t k = in[0].dims.back(), m = in[0].rows();
        const float* x = in[0].as<float>();
        const float* bias = in.size() == 3 ? in[2].as<float>() : nullptr;
        float* y = out[0].as<float>();
        if (bf16_ && ctx.kernels.gemm_bf16_panels) {
            // x's rows as bf16 pairs, once for every task
            const int64_t k2 = (k + 1) / 2;
            thread_local std::vector<uint32_t> scratch;  // the calling thread's: workers see only `a`
            scratch.resize(static_cast<size_t>(m * k2));
            uint32_t* a = scratch.data();
            parallel_for(ctx, m, [&](int64_t lo, int64_t hi) {
                for (int64_t r = lo; r < hi; r++) ctx.kernels.to_bf16_pairs(k, x + r * k, a + r * k2);
            }, 16);
            tasks(ctx, m, k2, 128, [&](int64_t r0, int64_t nr, int64_t c0, int64_t cols, int64_t k0, int64_t k1) {
                ctx.kernels.gemm_bf16_panels(nr, k2, k0, k1, a + r0 * k2, k2, bf16_->data() + c0 * k2, cols, y + r0 * n_ + c0, n_,
                                             bias ? bias + c0 : nullptr, gelu_);
            });
            return;
        }
        const float* w = in[1].as<float>();
        tasks(ctx, m, k, 128, [&](int64_t r0, int64_t nr, int64_t c0, int64_t cols, int64_t k0, int64_t k1) {
            ctx.kernels.gemm_f32_panels(nr, k, k0, k1, x + r0 * k, k, w + c0 * k, cols, y + r0 * n_ + c0, n_, bias ? bias + c0 : nullptr,
                                        gelu_);
        });
    }

private:
    // gemm(r0, rows, c0, cols, k0, k1) for every task and k range; k counts the kernel's
    // steps (values, or pairs of them).
    template <class Gemm>
    void tasks(graph::ExecContext& ctx, int64_t m, int64_t k, int64_t k_range, const Gemm& gemm) const {
        constexpr int64_t kRowBlock = 96, kCols = 2 * kernels::kF32Panel;
        const int64_t blocks = (m + kRowBlock - 1) / kRowBlock, rows = blocks ? (m + blocks - 1) / blocks : 0;
        const int64_t chunks = (n_ + kCols - 1) / kCols;
        parallel_for(ctx, blocks * chunks, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; t++) {
                const int64_t r0 = t / chunks * rows, c0 = t % chunks * kCols;
                for (int64_t k0 = 0; k0 == 0 || k0 < k; k0 += k_range)
                    gemm(r0, std::min(rows, m - r0), c0, std::min(kCols, n_ - c0), k0, std::min(k, k0 + k_range));
            }
        });
    }

    int64_t n_;
    bool gelu_;
    std::shared_ptr<const std::vector<uint32_t>> bf16_;
};

OpPtr dense(int64_t n, bool gelu, std::shared_ptr<const std::vector<uint32_t>> bf16) {
    return std::make_shared<Dense>(n, gelu, std::move(bf16));
}

}  // namespace lmx::ops
