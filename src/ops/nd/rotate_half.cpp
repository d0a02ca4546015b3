#include "ops/nd/rotate_half.hpp"

#include <vector>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

class RotateHalf final : public NamedOp {
public:
    explicit RotateHalf(int64_t half) : NamedOp("RotateHalf"), half_(half) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        for (const Value* v : in) require(v->dtype == DType::F32, "inputs must be float32, got ", dtype_name(v->dtype));
        const Dims& x = in[0]->dims;
        require(!x.empty() && x.back() == 2 * half_, "x ", graph::dims_text(x), " must end in the rotated dim ", 2 * half_);
        for (size_t i = 1; i < 3; i++) {
            const Dims& c = in[i]->dims;
            require(!c.empty() && c.back() == 2 * half_ && broadcast(x, c) == x, i == 1 ? "cos " : "sin ", graph::dims_text(c),
                    " must broadcast to x ", graph::dims_text(x), " along whole rows");
        }
        return {{DType::F32, x}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = in[0].dims;
        const int64_t row = 2 * half_, rows = in[0].elements() / row;
        const std::vector<int64_t> cs = broadcast_strides(in[1].dims, d), ss = broadcast_strides(in[2].dims, d);
        const float *x = in[0].as<float>(), *cos = in[1].as<float>(), *sin = in[2].as<float>();
        float* y = out[0].as<float>();
        parallel_for(ctx, rows, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; r++) {
                int64_t co = 0, so = 0;  // the offsets of row r's cos and sin rows
                for (int64_t i = static_cast<int64_t>(d.size()) - 2, rest = r; i >= 0; i--) {
                    const int64_t idx = rest % d[static_cast<size_t>(i)];
                    rest /= d[static_cast<size_t>(i)];
                    co += idx * cs[static_cast<size_t>(i)];
                    so += idx * ss[static_cast<size_t>(i)];
                }
                const float *xr = x + r * row, *c = cos + co, *s = sin + so;
                float* yr = y + r * row;
                for (int64_t i = 0; i < half_; i++) {
                    const float a = xr[i] * c[i], b = -xr[i + half_] * s[i];
                    yr[i] = a + b;
                }
                for (int64_t i = half_; i < row; i++) {
                    const float a = xr[i] * c[i], b = xr[i - half_] * s[i];
                    yr[i] = a + b;
                }
            }
        }, std::max<int64_t>(1, 4096 / row));
    }

private:
    int64_t half_;
};

}  // namespace

OpPtr rotate_half(int64_t half) {
    require(half > 0, "the rotated half must be > 0, got ", half);
    return std::make_shared<RotateHalf>(half);
}

}  // namespace lmx::ops::nd
