#include "ops/nd/unary.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <utility>

#include "base/det_math.hpp"
#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

constexpr size_t kKinds = static_cast<size_t>(UnaryKind::gelu_tanh) + 1;

const char* kind_name(UnaryKind k) {
    static constexpr const char* names[] = {
        "Neg", "Abs", "Sign", "Relu", "Not", "IsNaN", "IsInf", "Shrink", "Sqrt", "Reciprocal", "Exp", "Log", "Erf",
        "Tanh", "Sigmoid", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
        "Floor", "Ceil", "Round", "LeakyRelu", "Elu", "Celu", "ThresholdedRelu", "Selu", "HardSigmoid", "HardSwish",
        "Softplus", "Softsign", "Mish", "Gelu", "Gelu(tanh)"};
    static_assert(std::size(names) == kKinds);
    return names[static_cast<int>(k)];
}

// Calls f(std::integral_constant<UnaryKind, k>{}), so each kind's loop is compiled on its own.
template <class F, size_t... I>
void with_kind(UnaryKind k, F&& f, std::index_sequence<I...>) {
    (void)((static_cast<size_t>(k) == I ? (f(std::integral_constant<UnaryKind, static_cast<UnaryKind>(I)>{}), true) : false) || ...);
}
template <class F>
void with_kind(UnaryKind k, F&& f) { with_kind(k, std::forward<F>(f), std::make_index_sequence<kKinds>{}); }

// The element types kind K is defined on (ONNX's type constraints).
template <UnaryKind K, class T>
constexpr bool accepts() {
    constexpr bool is_bool = std::is_same_v<T, bool>;
    if constexpr (K == UnaryKind::not_) return is_bool;
    else if constexpr (K == UnaryKind::abs || K == UnaryKind::sign || K == UnaryKind::shrink) return !is_bool;
    else if constexpr (K == UnaryKind::neg || K == UnaryKind::relu) return is_floating<T> || (std::is_signed_v<T> && !is_bool);
    else return is_floating<T>;
}

template <UnaryKind K>
constexpr bool is_predicate() { return K == UnaryKind::not_ || K == UnaryKind::isnan || K == UnaryKind::isinf; }

// -x for a signed integer, wrapping (numpy's -INT_MIN is INT_MIN) rather than overflowing.
template <class C>
C negate(C x) {
    if constexpr (std::is_integral_v<C>) return static_cast<C>(-static_cast<std::make_unsigned_t<C>>(x));
    else return -x;
}

template <class C>
C softplus(C x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }  // never overflows

// The kinds det_math has float versions of whose bits are the same on every platform,
// used in deterministic mode (graph::ExecContext::deterministic).
template <UnaryKind K>
constexpr bool has_det() {
    using U = UnaryKind;
    return K == U::exp || K == U::tanh || K == U::sigmoid || K == U::sin || K == U::cos || K == U::gelu_tanh;
}

template <bool Det, class C>
C tanh_of(C x) {
    if constexpr (Det) return det_tanh(x);
    else return std::tanh(x);
}

// Kind K on one element, computed in C (float for the half types); Det: with det_math (C float).
template <UnaryKind K, bool Det, class C>
auto eval(C x, const UnaryAttrs& p) {
    using U = UnaryKind;
    const C a = static_cast<C>(p.alpha), b = static_cast<C>(p.beta);
    if constexpr (K == U::not_) return !x;
    else if constexpr (K == U::isnan) return std::isnan(x);
    else if constexpr (K == U::isinf) return std::isinf(x) && (x > 0 ? a != 0 : b != 0);
    else if constexpr (K == U::neg) return negate(x);
    else if constexpr (K == U::abs) {
        if constexpr (std::is_unsigned_v<C>) return x;
        else if constexpr (std::is_integral_v<C>) return x < 0 ? negate(x) : x;
        else return std::fabs(x);
    } else if constexpr (K == U::sign) {
        if constexpr (std::is_unsigned_v<C>) return static_cast<C>(x > 0);
        else if constexpr (std::is_integral_v<C>) return static_cast<C>((x > 0) - (x < 0));
        else return x > 0 ? C{1} : x < 0 ? C{-1} : x;  // 0 and NaN stay
    } else if constexpr (K == U::relu) return x > 0 ? x : C{0};
    else if constexpr (K == U::shrink) {  // in double for integers, stored back saturated
        if constexpr (std::is_integral_v<C>) {
            const double v = static_cast<double>(x), bias = p.alpha, lambd = p.beta;
            return saturate_int<C>(v < -lambd ? v + bias : v > lambd ? v - bias : 0.0);
        } else {
            return x < -b ? x + a : x > b ? x - a : C{0};
        }
    } else if constexpr (K == U::sqrt) return std::sqrt(x);
    else if constexpr (K == U::reciprocal) return C{1} / x;
    else if constexpr (K == U::exp) {
        if constexpr (Det) return det_exp(x);
        else return std::exp(x);
    }
    else if constexpr (K == U::log) return std::log(x);
    else if constexpr (K == U::erf) return std::erf(x);
    else if constexpr (K == U::tanh) return tanh_of<Det>(x);
    else if constexpr (K == U::sigmoid) {
        if constexpr (Det) return C{1} / (C{1} + det_exp(-x));
        else return C{1} / (C{1} + std::exp(-x));
    } else if constexpr (K == U::sin || K == U::cos) {
        if constexpr (Det) {
            float s, c;
            det_sincos(x, &s, &c);
            return K == U::sin ? s : c;
        } else {
            return K == U::sin ? std::sin(x) : std::cos(x);
        }
    }
    else if constexpr (K == U::tan) return std::tan(x);
    else if constexpr (K == U::asin) return std::asin(x);
    else if constexpr (K == U::acos) return std::acos(x);
    else if constexpr (K == U::atan) return std::atan(x);
    else if constexpr (K == U::sinh) return std::sinh(x);
    else if constexpr (K == U::cosh) return std::cosh(x);
    else if constexpr (K == U::asinh) return std::asinh(x);
    else if constexpr (K == U::acosh) return std::acosh(x);
    else if constexpr (K == U::atanh) return std::atanh(x);
    else if constexpr (K == U::floor) return std::floor(x);
    else if constexpr (K == U::ceil) return std::ceil(x);
    else if constexpr (K == U::round) return std::nearbyint(x);  // the default rounding mode: half to even
    else if constexpr (K == U::leaky_relu) return x > 0 ? x : a * x;
    else if constexpr (K == U::elu) return x > 0 ? x : a * std::expm1(x);
    else if constexpr (K == U::celu) return std::max(C{0}, x) + std::min(C{0}, a * std::expm1(x / a));
    else if constexpr (K == U::thresholded_relu) return x > a ? x : C{0};
    else if constexpr (K == U::selu) return b * (x > 0 ? x : a * std::expm1(x));
    else if constexpr (K == U::hard_sigmoid) return std::max(C{0}, std::min(C{1}, a * x + b));
    else if constexpr (K == U::hard_swish) return x * std::max(C{0}, std::min(C{1}, x / C{6} + C{0.5}));
    else if constexpr (K == U::softplus) return softplus(x);
    else if constexpr (K == U::softsign) return x / (C{1} + std::fabs(x));
    else if constexpr (K == U::mish) return x * std::tanh(softplus(x));
    else if constexpr (K == U::gelu) return C{0.5} * x * (C{1} + std::erf(x / std::numbers::sqrt2_v<C>));
    else {
        static_assert(K == U::gelu_tanh);
        const C k = std::numbers::sqrt2_v<C> * std::numbers::inv_sqrtpi_v<C>;  // sqrt(2 / pi)
        return C{0.5} * x * (C{1} + tanh_of<Det>(k * (x + static_cast<C>(0.044715) * x * x * x)));
    }
}

class Unary final : public NamedOp {
public:
    Unary(UnaryKind k, UnaryAttrs a) : NamedOp(kind_name(k)), k_(k), attrs_(a) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        const DType t = in[0]->dtype;
        bool ok = false, predicate = false;
        visit_dtype(t, "input", [&](auto v) {
            with_kind(k_, [&](auto kc) {
                ok = accepts<decltype(kc)::value, decltype(v)>();
                predicate = is_predicate<decltype(kc)::value>();
            });
        });
        require(ok, "input cannot be ", dtype_name(t));
        return {{predicate ? DType::BOOL : t, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto v) {
            using T = decltype(v);
            with_kind(k_, [&](auto kc) {
                constexpr UnaryKind K = decltype(kc)::value;
                if constexpr (accepts<K, T>()) {
                    if constexpr (has_det<K>() && std::is_same_v<Compute<T>, float>) {
                        if (ctx.deterministic) return run_typed<K, T, true>(ctx, in[0], out[0]);
                    }
                    run_typed<K, T, false>(ctx, in[0], out[0]);
                }
            });
        });
    }

private:
    template <UnaryKind K, class T, bool Det>
    void run_typed(graph::ExecContext& ctx, const Tensor& in, Tensor& out) const {
        using C = Compute<T>;
        using R = std::conditional_t<is_predicate<K>(), bool, T>;
        const T* x = in.as<T>();
        R* y = out.as<R>();
        parallel_for(ctx, in.elements(), [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++) y[i] = static_cast<R>(eval<K, Det, C>(static_cast<C>(x[i]), attrs_));
        }, 8192);
    }

    UnaryKind k_;
    UnaryAttrs attrs_;
};

class Identity final : public NamedOp {
public:
    Identity() : NamedOp("Identity") {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(!dtype_info(in[0]->dtype).quantized, "input cannot be ", dtype_name(in[0]->dtype));
        return {{in[0]->dtype, in[0]->dims}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        if (in[0].elements() > 0) std::memcpy(out[0].data, in[0].data, dtype_row_bytes(in[0].dtype, in[0].elements()));
    }
};

class Dropout final : public NamedOp {
public:
    Dropout(bool with_mask, bool mask_like_input) : NamedOp("Dropout"), with_mask_(with_mask), mask_like_input_(mask_like_input) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 3);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t), "input cannot be ", dtype_name(t));
        if (present(in, 1)) require(is_float_dtype(in[1]->dtype), "ratio cannot be ", dtype_name(in[1]->dtype));
        if (present(in, 2)) {
            require(in[2]->dtype == DType::BOOL, "training_mode must be bool, got ", dtype_name(in[2]->dtype));
            require(in[2]->data && elements(in[2]->dims) == 1, "training_mode must be one known value");
            require(!*static_cast<const bool*>(in[2]->data), "training mode is not supported (lmx runs inference only)");
        }
        std::vector<OutputSpec> specs{{t, in[0]->dims}};
        if (with_mask_) specs.push_back({mask_like_input_ ? t : DType::BOOL, in[0]->dims});
        return specs;
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t n = in[0].elements();
        if (n == 0) return;
        std::memcpy(out[0].data, in[0].data, dtype_row_bytes(in[0].dtype, n));
        if (!with_mask_) return;
        visit_dtype(out[1].dtype, "mask", [&](auto v) {
            using T = decltype(v);
            std::fill_n(out[1].as<T>(), n, static_cast<T>(Compute<T>{1}));
        });
    }

private:
    bool with_mask_, mask_like_input_;
};

}  // namespace

OpPtr unary(UnaryKind k, UnaryAttrs a) { return std::make_shared<Unary>(k, a); }
OpPtr identity() { return std::make_shared<Identity>(); }
OpPtr dropout(bool with_mask, bool mask_like_input) { return std::make_shared<Dropout>(with_mask, mask_like_input); }

}  // namespace lmx::ops::nd
