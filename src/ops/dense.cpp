#include <algorithm>
#include <memory>
#include <vector>

#include "ops/ops.hpp"
#include "ops/panel_gemm.hpp"

namespace lmx::ops {

// A dense layer over f32 weights packed in panels (kernels.hpp), in bf16 where the op has
// a bf16 copy and the table native bf16 products; the tasks of ops/panel_gemm.hpp.
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
            for_panel_tasks(ctx, m, n_, k2, [&](int64_t r0, int64_t nr, int64_t c0, int64_t cols, int64_t k0, int64_t k1) {
                ctx.kernels.gemm_bf16_panels(nr, k2, k0, k1, a + r0 * k2, k2, bf16_->data() + c0 * k2, cols, y + r0 * n_ + c0, n_,
                                             bias ? bias + c0 : nullptr, gelu_);
            });
            return;
        }
        panel_gemm_f32(ctx, m, k, n_, x, in[1].as<float>(), bias, gelu_, y);
    }

private:
    int64_t n_;
    bool gelu_;
    std::shared_ptr<const std::vector<uint32_t>> bf16_;
};

OpPtr dense(int64_t n, bool gelu, std::shared_ptr<const std::vector<uint32_t>> bf16) {
    return std::make_shared<Dense>(n, gelu, std::move(bf16));
}

}  // namespace lmx::ops
