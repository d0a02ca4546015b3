#include "ops/nd/select.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

bool is_numeric(DType t) { return is_float_dtype(t) || is_int_dtype(t); }

template <class C>
bool is_nan(C a) {
    if constexpr (std::is_floating_point_v<C>) return std::isnan(a);
    else return false;
}

// Copies `in` broadcast to out's dims into y (already the right size).
template <class T>
void broadcast_copy(graph::ExecContext& ctx, const Tensor& in, const Dims& out, T* y) {
    const T* x = in.as<T>();
    if (in.dims == out) {
        parallel_for(ctx, in.elements(), [&](int64_t lo, int64_t hi) { std::copy(x + lo, x + hi, y + lo); }, 65536);
        return;
    }
    for_each_broadcast<1>(out, {&in.dims}, [&](int64_t i, const std::array<int64_t, 1>& o) { y[i] = x[o[0]]; });
}

class Where final : public NamedOp {
public:
    Where() : NamedOp("Where") {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        require(in[0]->dtype == DType::BOOL, "condition must be bool, got ", dtype_name(in[0]->dtype));
        require(in[1]->dtype == in[2]->dtype, "input types differ: ", dtype_name(in[1]->dtype), " and ", dtype_name(in[2]->dtype));
        require(is_numeric(in[1]->dtype) || in[1]->dtype == DType::BOOL, "inputs cannot be ", dtype_name(in[1]->dtype));
        return {{in[1]->dtype, broadcast(in[0]->dims, broadcast(in[1]->dims, in[2]->dims))}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[1].dtype, "input", [&](auto v) {
            using T = decltype(v);
            const bool* c = in[0].as<bool>();
            const T* a = in[1].as<T>();
            const T* b = in[2].as<T>();
            T* y = out[0].as<T>();
            const Dims& d = out[0].dims;
            if (in[0].dims == d && in[1].dims == d && in[2].dims == d) {
                parallel_for(ctx, out[0].elements(), [&](int64_t lo, int64_t hi) {
                    for (int64_t i = lo; i < hi; i++) y[i] = c[i] ? a[i] : b[i];
                }, 16384);
                return;
            }
            for_each_broadcast<3>(d, {&in[0].dims, &in[1].dims, &in[2].dims}, [&](int64_t i, const std::array<int64_t, 3>& o) {
                y[i] = c[o[0]] ? a[o[1]] : b[o[2]];
            });
        });
    }
};

class Clip final : public NamedOp {
public:
    Clip(std::optional<float> lo, std::optional<float> hi) : NamedOp("Clip"), lo_(lo), hi_(hi) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 3);
        const DType t = in[0]->dtype;
        require(is_numeric(t), "input cannot be ", dtype_name(t));
        require(is_float_dtype(t) || (!lo_ && !hi_), "min/max attributes need a float input, got ", dtype_name(t));
        for (size_t i = 1; i < in.size(); i++) {
            if (!present(in, i)) continue;
            const char* what = i == 1 ? "min" : "max";
            require(in[i]->dtype == t, what, " must be ", dtype_name(t), " like the input, got ", dtype_name(in[i]->dtype));
            require(elements(in[i]->dims) == 1, what, " must hold one value, has dims ", graph::dims_text(in[i]->dims));
        }
        return {{t, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto v) {
            using T = decltype(v);
            using C = Compute<T>;
            if constexpr (!std::is_same_v<T, bool>) {
                auto bound = [&](size_t i, const std::optional<float>& attr) -> std::optional<C> {
                    if (present(in, i)) return static_cast<C>(in[i].as<T>()[0]);
                    if constexpr (is_floating<T>) {
                        if (attr) return static_cast<C>(*attr);
                    }
                    return std::nullopt;
                };
                // A missing bound clamps nothing: -inf/+inf for floats, the extremes for integers.
                using L = std::numeric_limits<C>;
                const C lo = bound(1, lo_).value_or(L::has_infinity ? -L::infinity() : L::lowest());
                const C hi = bound(2, hi_).value_or(L::has_infinity ? L::infinity() : L::max());
                const T* x = in[0].as<T>();
                T* y = out[0].as<T>();
                parallel_for(ctx, in[0].elements(), [&](int64_t b, int64_t e) {
                    for (int64_t i = b; i < e; i++) {
                        C c = static_cast<C>(x[i]);
                        if (c < lo) c = lo;  // NaN compares false: stays NaN
                        if (c > hi) c = hi;
                        y[i] = static_cast<T>(c);
                    }
                }, 16384);
            }
        });
    }

private:
    std::optional<float> lo_, hi_;
};

class PRelu final : public NamedOp {
public:
    PRelu() : NamedOp("PRelu") {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        const DType t = in[0]->dtype;
        // Integer products wrap in these widths' unsigned types, never overflowing.
        require(is_float_dtype(t) || t == DType::I32 || t == DType::I64 || t == DType::U32 || t == DType::U64,
                "input cannot be ", dtype_name(t));
        require(in[1]->dtype == t, "slope must be ", dtype_name(t), " like the input, got ", dtype_name(in[1]->dtype));
        require(broadcast(in[0]->dims, in[1]->dims) == in[0]->dims, "slope dims ", graph::dims_text(in[1]->dims),
                " do not broadcast to the input's ", graph::dims_text(in[0]->dims));
        return {{t, in[0]->dims}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto v) {
            using T = decltype(v);
            if constexpr (is_floating<T> || (std::is_integral_v<T> && sizeof(T) >= 4)) {
                using C = Compute<T>;
                const T* x = in[0].as<T>();
                const T* s = in[1].as<T>();
                T* y = out[0].as<T>();
                for_each_broadcast<2>(out[0].dims, {&in[0].dims, &in[1].dims}, [&](int64_t i, const std::array<int64_t, 2>& o) {
                    const C a = static_cast<C>(x[o[0]]);
                    if (a > 0) { y[i] = x[o[0]]; return; }
                    if constexpr (std::is_integral_v<C>) {
                        using U = std::make_unsigned_t<C>;
                        y[i] = static_cast<T>(static_cast<U>(a) * static_cast<U>(s[o[1]]));
                    } else {
                        y[i] = static_cast<T>(a * static_cast<C>(s[o[1]]));
                    }
                });
            }
        });
    }
};

const char* kind_name(VariadicKind k) {
    static constexpr const char* names[] = {"Min", "Max", "Sum", "Mean"};
    return names[static_cast<int>(k)];
}

class Variadic final : public NamedOp {
public:
    explicit Variadic(VariadicKind k) : NamedOp(kind_name(k)), k_(k) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require(present(in, 0), "needs at least one input");
        const DType t = in[0]->dtype;
        const bool float_only = k_ == VariadicKind::sum || k_ == VariadicKind::mean;
        require(float_only ? is_float_dtype(t) : is_numeric(t), "inputs cannot be ", dtype_name(t));
        Dims out = in[0]->dims;
        for (size_t i = 1; i < in.size(); i++) {
            require(present(in, i), "input ", i, " is missing");
            require(in[i]->dtype == t, "input types differ: ", dtype_name(t), " and ", dtype_name(in[i]->dtype));
            out = broadcast(out, in[i]->dims);
        }
        return {{t, std::move(out)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto v) {
            using T = decltype(v);
            if constexpr (!std::is_same_v<T, bool>) {
                switch (k_) {
                    case VariadicKind::min: fold<T>(ctx, in, out[0], [](auto a, auto b) { return a < b || is_nan(a) ? a : b; }); break;
                    case VariadicKind::max: fold<T>(ctx, in, out[0], [](auto a, auto b) { return a > b || is_nan(a) ? a : b; }); break;
                    default: fold<T>(ctx, in, out[0], [](auto a, auto b) { return a + b; }); break;
                }
            }
        });
    }

private:
    // out = in[0] (op) in[1] (op) ..., each step rounded to T as numpy does; mean divides at the end.
    template <class T, class F>
    void fold(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out, F f) const {
        using C = Compute<T>;
        T* y = out.as<T>();
        const int64_t n = out.elements();
        broadcast_copy(ctx, in[0], out.dims, y);
        for (size_t k = 1; k < in.size(); k++) {
            const T* x = in[k].as<T>();
            if (in[k].dims == out.dims) {
                parallel_for(ctx, n, [&](int64_t lo, int64_t hi) {
                    for (int64_t i = lo; i < hi; i++) y[i] = static_cast<T>(f(static_cast<C>(y[i]), static_cast<C>(x[i])));
                }, 16384);
            } else {
                for_each_broadcast<1>(out.dims, {&in[k].dims}, [&](int64_t i, const std::array<int64_t, 1>& o) {
                    y[i] = static_cast<T>(f(static_cast<C>(y[i]), static_cast<C>(x[o[0]])));
                });
            }
        }
        if constexpr (is_floating<T>) {
            if (k_ != VariadicKind::mean) return;
            const C count = static_cast<C>(in.size());
            for (int64_t i = 0; i < n; i++) y[i] = static_cast<T>(static_cast<C>(y[i]) / count);
        }
    }

    VariadicKind k_;
};

}  // namespace

OpPtr where() { return std::make_shared<Where>(); }
OpPtr clip(std::optional<float> min_attr, std::optional<float> max_attr) { return std::make_shared<Clip>(min_attr, max_attr); }
OpPtr prelu() { return std::make_shared<PRelu>(); }
OpPtr variadic(VariadicKind k) { return std::make_shared<Variadic>(k); }

}  // namespace lmx::ops::nd
