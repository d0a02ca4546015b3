#include "ops/nd/activations_ms.hpp"

#include <cmath>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

const char* kind_name(GeluMsKind k) {
    switch (k) {
        case GeluMsKind::fast: return "FastGelu";
        case GeluMsKind::bias_erf: return "BiasGelu";
        default: return "QuickGelu";
    }
}

class GeluMs final : public NamedOp {
public:
    GeluMs(GeluMsKind k, float alpha) : NamedOp(kind_name(k)), k_(k), alpha_(alpha) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, k_ == GeluMsKind::bias_erf ? 2 : 1, k_ == GeluMsKind::quick ? 1 : 2);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t), "input must be a float type, got ", dtype_name(t));
        const Dims& x = in[0]->dims;
        if (present(in, 1)) {
            require(in[1]->dtype == t, "bias must be ", dtype_name(t), " like the input, got ", dtype_name(in[1]->dtype));
            require(!x.empty() && in[1]->dims == Dims{x.back()}, "bias ", graph::dims_text(in[1]->dims), " must be 1-D with the input's last dim ",
                    x.empty() ? 0 : x.back());
        }
        return {{t, x}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto t) {
            using T = decltype(t);
            if constexpr (is_floating<T>) run_typed<T>(ctx, in, out[0]);
        });
    }

private:
    template <class C>
    C apply(C x) const {
        switch (k_) {
            case GeluMsKind::fast: {
                const C c = static_cast<C>(0.7978845608028654), b = static_cast<C>(0.044715);  // sqrt(2/π)
                return static_cast<C>(0.5) * x * (C{1} + std::tanh(c * (x + b * x * x * x)));
            }
            case GeluMsKind::bias_erf: return static_cast<C>(0.5) * x * (C{1} + std::erf(x * static_cast<C>(0.7071067811865476)));
            default: return x / (C{1} + std::exp(-static_cast<C>(alpha_) * x));
        }
    }

    template <class T>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        using C = Compute<T>;
        const T* x = in[0].as<T>();
        const T* bias = present(in, 1) ? in[1].as<T>() : nullptr;
        const int64_t n = in[0].elements(), cols = in[0].cols();
        T* y = out.as<T>();
        parallel_for(ctx, n, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++) {
                C v = static_cast<C>(x[i]);
                if (bias) v += static_cast<C>(bias[i % cols]);
                y[i] = static_cast<T>(apply(v));
            }
        }, 16384);
    }

    GeluMsKind k_;
    float alpha_;
};

}  // namespace

OpPtr gelu_ms(GeluMsKind k, float alpha) { return std::make_shared<GeluMs>(k, alpha); }

}  // namespace lmx::ops::nd
