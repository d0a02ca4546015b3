#include "ops/nd/cast.hpp"

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

template <class From, class To>
To convert(From x) {
    using CF = Compute<From>;
    using CT = Compute<To>;
    if constexpr (std::is_same_v<To, bool>) return static_cast<CF>(x) != CF{0};
    else if constexpr (std::is_same_v<From, bool>) return static_cast<To>(static_cast<CT>(x ? 1 : 0));
    else if constexpr (std::is_integral_v<To> && is_floating<From>) return saturate_int<To>(static_cast<double>(static_cast<CF>(x)));
    else return static_cast<To>(static_cast<CT>(static_cast<CF>(x)));
}

bool castable(DType t) { return t == DType::BOOL || is_float_dtype(t) || is_int_dtype(t); }

class Cast final : public NamedOp {
public:
    explicit Cast(std::optional<DType> to) : NamedOp(to ? "Cast" : "CastLike"), to_(to) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, to_ ? 1 : 2, to_ ? 1 : 2);
        const DType to = to_ ? *to_ : in[1]->dtype;
        require(castable(in[0]->dtype), "input cannot be ", dtype_name(in[0]->dtype));
        require(castable(to), "target type cannot be ", dtype_name(to));
        return {{to, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto f) {
            visit_dtype(out[0].dtype, "target type", [&](auto t) {
                using From = decltype(f);
                using To = decltype(t);
                const From* x = in[0].as<From>();
                To* y = out[0].as<To>();
                parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) {
                    for (int64_t i = lo; i < hi; i++) y[i] = convert<From, To>(x[i]);
                }, 16384);
            });
        });
    }

private:
    std::optional<DType> to_;
};

}  // namespace

OpPtr cast(std::optional<DType> to) { return std::make_shared<Cast>(to); }

}  // namespace lmx::ops::nd
