#include "ops/nd/binary.hpp"

#include <algorithm>
#include <cmath>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

const char* kind_name(BinaryKind k) {
    static constexpr const char* names[] = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Mod(fmod)", "Equal", "Less", "LessOrEqual",
                                            "Greater", "GreaterOrEqual", "And", "Or", "Xor", "BitwiseAnd", "BitwiseOr",
                                            "BitwiseXor", "BitShift(left)", "BitShift(right)"};
    return names[static_cast<int>(k)];
}

bool is_compare(BinaryKind k) { return k >= BinaryKind::equal && k <= BinaryKind::greater_equal; }
bool is_logical(BinaryKind k) { return k >= BinaryKind::logical_and && k <= BinaryKind::logical_xor; }
bool is_bitwise(BinaryKind k) { return k >= BinaryKind::bit_and; }

// a op b in the compute type C of the elements; int division and modulo by zero give 0
// rather than trapping.
template <class C>
C arith(BinaryKind k, C a, C b) {
    switch (k) {
        case BinaryKind::add: return static_cast<C>(a + b);
        case BinaryKind::sub: return static_cast<C>(a - b);
        case BinaryKind::mul: return static_cast<C>(a * b);
        case BinaryKind::div:
            if constexpr (std::is_integral_v<C>) return b == 0 ? C{0} : static_cast<C>(a / b);
            else return a / b;
        case BinaryKind::mod:  // the result takes the divisor's sign, as Python's %
            if constexpr (std::is_integral_v<C>) {
                if (b == 0) return C{0};
                C r = static_cast<C>(a % b);
                if constexpr (std::is_signed_v<C>)
                    if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
                return r;
            } else {
                C r = std::fmod(a, b);
                return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
            }
        case BinaryKind::fmod:  // the result takes the dividend's sign, as C's fmod
            if constexpr (std::is_integral_v<C>) return b == 0 ? C{0} : static_cast<C>(a % b);
            else return std::fmod(a, b);
        case BinaryKind::bit_and: if constexpr (std::is_integral_v<C>) return static_cast<C>(a & b); else break;
        case BinaryKind::bit_or: if constexpr (std::is_integral_v<C>) return static_cast<C>(a | b); else break;
        case BinaryKind::bit_xor: if constexpr (std::is_integral_v<C>) return static_cast<C>(a ^ b); else break;
        case BinaryKind::shift_left:
            if constexpr (std::is_integral_v<C>) return b >= static_cast<C>(sizeof(C) * 8) ? C{0} : static_cast<C>(a << b);
            else break;
        case BinaryKind::shift_right:
            if constexpr (std::is_integral_v<C>) return b >= static_cast<C>(sizeof(C) * 8) ? C{0} : static_cast<C>(a >> b);
            else break;
        default: break;
    }
    return C{};
}

template <class C>
bool compare(BinaryKind k, C a, C b) {
    switch (k) {
        case BinaryKind::equal: return a == b;
        case BinaryKind::less: return a < b;
        case BinaryKind::less_equal: return a <= b;
        case BinaryKind::greater: return a > b;
        default: return a >= b;
    }
}

class Binary final : public NamedOp {
public:
    explicit Binary(BinaryKind k) : NamedOp(kind_name(k)), k_(k) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        const DType a = in[0]->dtype, b = in[1]->dtype;
        if (k_ == BinaryKind::pow) {
            require(is_float_dtype(a) || is_int_dtype(a), "base cannot be ", dtype_name(a));
            require(is_float_dtype(b) || is_int_dtype(b), "exponent cannot be ", dtype_name(b));
        } else {
            require(a == b, "input types differ: ", dtype_name(a), " and ", dtype_name(b));
            if (is_logical(k_)) require(a == DType::BOOL, "inputs must be bool, got ", dtype_name(a));
            else if (is_bitwise(k_)) require(is_int_dtype(a), "inputs must be integers, got ", dtype_name(a));
            else if (k_ == BinaryKind::equal) require(a == DType::BOOL || is_float_dtype(a) || is_int_dtype(a), "inputs cannot be ", dtype_name(a));
            else require(is_float_dtype(a) || is_int_dtype(a), "inputs cannot be ", dtype_name(a));
        }
        const DType out = is_compare(k_) || is_logical(k_) ? DType::BOOL : a;
        return {{out, broadcast(in[0]->dims, in[1]->dims)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto ta) {
            using T = decltype(ta);
            if (k_ == BinaryKind::pow) {
                visit_dtype(in[1].dtype, "exponent", [&](auto tb) { run_pow<T, decltype(tb)>(ctx, in, out[0]); });
            } else if (is_compare(k_) || is_logical(k_)) {
                run_typed<T, bool>(ctx, in, out[0]);
            } else {
                run_typed<T, T>(ctx, in, out[0]);
            }
        });
    }

private:
    template <class T, class R>
    R apply(T a, T b) const {
        using C = Compute<T>;
        if constexpr (std::is_same_v<T, bool>) {
            switch (k_) {
                case BinaryKind::logical_and: return a && b;
                case BinaryKind::logical_or: return a || b;
                case BinaryKind::logical_xor: return a != b;
                case BinaryKind::equal: return a == b;
                default: return R{};
            }
        } else if constexpr (std::is_same_v<R, bool>) {
            return compare<C>(k_, static_cast<C>(a), static_cast<C>(b));
        } else {
            return static_cast<R>(arith<C>(k_, static_cast<C>(a), static_cast<C>(b)));
        }
    }

    // f32 add, sub, mul and div, most of an exported LLM's elementwise nodes: each kind
    // its own loops, which the compiler vectorizes (apply's switch per element it cannot),
    // and a row broadcast (a bias, a norm weight) without the general index walk.
    template <class Op>
    bool run_f32(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out, Op op) const {
        const float* a = in[0].as<float>();
        const float* b = in[1].as<float>();
        float* y = out.as<float>();
        const int64_t n = out.elements();
        const auto split = [&](auto body) { parallel_for(ctx, n, [&](int64_t lo, int64_t hi) { body(lo, hi); }, 16384); };
        const bool a_full = in[0].dims == out.dims, b_full = in[1].dims == out.dims;
        if (a_full && b_full) {
            split([&](int64_t lo, int64_t hi) { for (int64_t i = lo; i < hi; i++) y[i] = op(a[i], b[i]); });
        } else if (a_full && in[1].elements() == 1) {
            const float s = b[0];
            split([&](int64_t lo, int64_t hi) { for (int64_t i = lo; i < hi; i++) y[i] = op(a[i], s); });
        } else if (b_full && in[0].elements() == 1) {
            const float s = a[0];
            split([&](int64_t lo, int64_t hi) { for (int64_t i = lo; i < hi; i++) y[i] = op(s, b[i]); });
        } else if (a_full && !out.dims.empty() && in[1].elements() == out.dims.back() && in[1].dims.back() == out.dims.back()) {
            const int64_t w = std::max<int64_t>(out.dims.back(), 1);  // b: one row, every row of a
            parallel_for(ctx, n / w, [&](int64_t lo, int64_t hi) {
                for (int64_t r = lo; r < hi; r++)
                    for (int64_t j = 0; j < w; j++) y[r * w + j] = op(a[r * w + j], b[j]);
            }, std::max<int64_t>(1, 16384 / w));
        } else {
            return false;
        }
        return true;
    }

    template <class T, class R>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        if constexpr (std::is_same_v<T, float> && std::is_same_v<R, float>) {
            switch (k_) {
                case BinaryKind::add: if (run_f32(ctx, in, out, [](float x, float z) { return x + z; })) return; break;
                case BinaryKind::sub: if (run_f32(ctx, in, out, [](float x, float z) { return x - z; })) return; break;
                case BinaryKind::mul: if (run_f32(ctx, in, out, [](float x, float z) { return x * z; })) return; break;
                case BinaryKind::div: if (run_f32(ctx, in, out, [](float x, float z) { return x / z; })) return; break;
                default: break;
            }
        }
        const T* a = in[0].as<T>();
        const T* b = in[1].as<T>();
        R* y = out.as<R>();
        const int64_t n = out.elements();
        if (in[0].dims == out.dims && in[1].dims == out.dims) {  // no broadcasting: split across threads
            parallel_for(ctx, n, [&](int64_t lo, int64_t hi) {
                for (int64_t i = lo; i < hi; i++) y[i] = apply<T, R>(a[i], b[i]);
            }, 16384);
            return;
        }
        if (in[1].elements() == 1 && in[0].dims == out.dims) {  // tensor op scalar
            const T s = b[0];
            parallel_for(ctx, n, [&](int64_t lo, int64_t hi) {
                for (int64_t i = lo; i < hi; i++) y[i] = apply<T, R>(a[i], s);
            }, 16384);
            return;
        }
        for_each_broadcast<2>(out.dims, {&in[0].dims, &in[1].dims},
                              [&](int64_t i, const std::array<int64_t, 2>& o) { y[i] = apply<T, R>(a[o[0]], b[o[1]]); });
    }

    template <class T, class E>
    void run_pow(graph::ExecContext&, std::span<const Tensor> in, Tensor& out) const {
        const T* a = in[0].as<T>();
        const E* b = in[1].as<E>();
        T* y = out.as<T>();
        for_each_broadcast<2>(out.dims, {&in[0].dims, &in[1].dims}, [&](int64_t i, const std::array<int64_t, 2>& o) {
            const double base = static_cast<double>(static_cast<Compute<T>>(a[o[0]]));
            const double e = static_cast<double>(static_cast<Compute<E>>(b[o[1]]));
            y[i] = static_cast<T>(static_cast<Compute<T>>(std::pow(base, e)));
        });
    }

    BinaryKind k_;
};

}  // namespace

OpPtr binary(BinaryKind k) { return std::make_shared<Binary>(k); }

}  // namespace lmx::ops::nd
