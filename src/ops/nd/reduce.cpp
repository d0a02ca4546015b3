#include "ops/nd/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/det_math.hpp"
#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

const char* kind_name(ReduceKind k) {
    static constexpr const char* names[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                                            "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
    return names[static_cast<int>(k)];
}

// The identities of max and min: -inf and +inf for floats, the type's limits otherwise.
template <class C>
C lowest_value() {
    if constexpr (std::is_floating_point_v<C>) return -std::numeric_limits<C>::infinity();
    else return std::numeric_limits<C>::lowest();
}
template <class C>
C highest_value() {
    if constexpr (std::is_floating_point_v<C>) return std::numeric_limits<C>::infinity();
    else return std::numeric_limits<C>::max();
}

template <class C>
bool is_nan(C v) {
    if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
    else return false;
}

// The input seen as kept and reduced dim groups: adjacent dims of the same kind merge,
// size-1 dims drop out. Output elements are the kept groups in row-major order.
struct Plan {
    Dims out_dims;
    std::vector<int64_t> kept_dims, kept_strides;
    std::vector<int64_t> red_dims, red_strides;
    int64_t count = 1;  // elements reduced into each output element
    int64_t n_out = 1;
};

Plan make_plan(const Dims& in, const std::vector<bool>& reduced, bool keepdims) {
    Plan p;
    const std::vector<int64_t> st = strides(in);
    for (size_t i = 0; i < in.size(); i++) {
        if (reduced[i]) p.count *= in[i];
        else p.n_out *= in[i];
        if (!reduced[i] || keepdims) p.out_dims.push_back(reduced[i] ? 1 : in[i]);
        if (in[i] == 1) continue;
        std::vector<int64_t>& dims = reduced[i] ? p.red_dims : p.kept_dims;
        std::vector<int64_t>& strd = reduced[i] ? p.red_strides : p.kept_strides;
        if (!dims.empty() && strd.back() == in[i] * st[i]) {  // the group ends right before dim i (or only size-1 dims between)
            dims.back() *= in[i];
            strd.back() = st[i];
        } else {
            dims.push_back(in[i]);
            strd.push_back(st[i]);
        }
    }
    return p;
}

// Input offset of the first element reduced into output element o.
int64_t base_offset(const Plan& p, int64_t o) {
    int64_t off = 0;
    for (size_t g = p.kept_dims.size(); g-- > 0;) {
        off += (o % p.kept_dims[g]) * p.kept_strides[g];
        o /= p.kept_dims[g];
    }
    return off;
}

// Calls f(x) for every element reduced into the output element whose first one is at x,
// in row-major order.
template <class T, class F>
void for_each_reduced(const Plan& p, const T* x, F&& f) {
    if (p.count == 0) return;
    if (p.red_dims.empty()) { f(x[0]); return; }
    const size_t outer = p.red_dims.size() - 1;
    const int64_t n = p.red_dims[outer], s = p.red_strides[outer];
    std::vector<int64_t> idx(outer, 0);
    for (;;) {
        if (s == 1) for (int64_t j = 0; j < n; j++) f(x[j]);
        else for (int64_t j = 0; j < n; j++) f(x[j * s]);
        size_t d = outer;
        for (; d-- > 0;) {  // carry into the outer reduced groups
            x += p.red_strides[d];
            if (++idx[d] < p.red_dims[d]) break;
            x -= p.red_strides[d] * p.red_dims[d];
            idx[d] = 0;
        }
        if (d == static_cast<size_t>(-1)) return;
    }
}

// The sum of g(x) over the elements reduced into one output element, in double. A
// contiguous run is summed in interleaved partial sums, which the compiler vectorizes;
// the order is fixed either way.
template <class T, class G>
double sum_of(const Plan& p, const T* x, G g) {
    double s = 0;
    if (p.red_dims.size() == 1 && p.red_strides[0] == 1) {
        constexpr int kLanes = 8;
        double lane[kLanes] = {};
        const int64_t n = p.count, body = n - n % kLanes;
        for (int64_t j = 0; j < body; j += kLanes)
            for (int l = 0; l < kLanes; l++) lane[l] += g(x[j + l]);
        for (double v : lane) s += v;
        for (int64_t j = body; j < n; j++) s += g(x[j]);
        return s;
    }
    for_each_reduced(p, x, [&](T t) { s += g(t); });
    return s;
}

class Reduce final : public NamedOp {
public:
    Reduce(ReduceKind k, std::optional<std::vector<int64_t>> axes, bool keepdims, bool noop)
        : NamedOp(kind_name(k)), k_(k), axes_(std::move(axes)), keepdims_(keepdims), noop_(noop) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, axes_ ? 1 : 2);
        const DType t = in[0]->dtype;
        if (k_ == ReduceKind::log_sum || k_ == ReduceKind::log_sum_exp) require(is_float_dtype(t), "data must be a float type, got ", dtype_name(t));
        else if (k_ == ReduceKind::max || k_ == ReduceKind::min) require(is_float_dtype(t) || is_int_dtype(t) || t == DType::BOOL, "data cannot be ", dtype_name(t));
        else require(is_float_dtype(t) || is_int_dtype(t), "data cannot be ", dtype_name(t));
        const std::vector<int64_t> axes = axes_ ? *axes_ : present(in, 1) ? read_ints(*in[1], "axes") : std::vector<int64_t>{};
        return {{t, make_plan(in[0]->dims, reduced_mask(in[0]->dims, axes), keepdims_).out_dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const std::vector<int64_t> axes = axes_ ? *axes_ : present(in, 1) ? read_ints(in[1], "axes") : std::vector<int64_t>{};
        const Plan p = make_plan(in[0].dims, reduced_mask(in[0].dims, axes), keepdims_);
        visit_dtype(in[0].dtype, "data", [&](auto t) {
            using T = decltype(t);
            const T* x = in[0].as<T>();
            T* y = out[0].as<T>();
            const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(p.count, 1));
            parallel_for(ctx, p.n_out, [&](int64_t lo, int64_t hi) {
                for (int64_t o = lo; o < hi; o++) y[o] = reduce_one<T>(p, x + base_offset(p, o), ctx.deterministic);
            }, grain);
        });
    }

private:
    std::vector<bool> reduced_mask(const Dims& dims, const std::vector<int64_t>& axes) const {
        const int64_t rank = static_cast<int64_t>(dims.size());
        std::vector<bool> mask(dims.size(), axes.empty() && !noop_);
        for (int64_t a : axes) {
            const int64_t n = normalize_axis(a, rank, "axes entry");
            require(!mask[static_cast<size_t>(n)], "axis ", a, " is listed twice in axes");
            mask[static_cast<size_t>(n)] = true;
        }
        return mask;
    }

    template <class T>
    T reduce_one(const Plan& p, const T* x, bool deterministic) const {
        using C = Compute<T>;
        if constexpr (std::is_same_v<T, bool>) {  // max = any, min = all
            bool acc = k_ == ReduceKind::min;
            for_each_reduced(p, x, [&](bool v) { acc = k_ == ReduceKind::min ? acc && v : acc || v; });
            return acc;
        } else if (k_ == ReduceKind::max || k_ == ReduceKind::min) {
            const bool is_max = k_ == ReduceKind::max;
            C acc = is_max ? lowest_value<C>() : highest_value<C>();
            for_each_reduced(p, x, [&](T t) {
                const C v = static_cast<C>(t);
                if (is_nan(acc)) return;
                if (is_nan(v) || (is_max ? v > acc : v < acc)) acc = v;
            });
            return static_cast<T>(acc);
        } else if constexpr (is_floating<T>) {
            return static_cast<T>(static_cast<C>(reduce_float(p, x, deterministic)));
        } else {
            return reduce_int(p, x);
        }
    }

    // Float reductions accumulate in double.
    template <class T>
    double reduce_float(const Plan& p, const T* x, bool deterministic) const {
        using C = Compute<T>;
        auto val = [](T t) { return static_cast<double>(static_cast<C>(t)); };
        auto square = [&](T t) { return val(t) * val(t); };
        switch (k_) {
            case ReduceKind::prod: {
                double acc = 1;
                for_each_reduced(p, x, [&](T t) { acc *= val(t); });
                return acc;
            }
            case ReduceKind::l1: return sum_of(p, x, [&](T t) { return std::fabs(val(t)); });
            case ReduceKind::l2: return std::sqrt(sum_of(p, x, square));
            case ReduceKind::sum_square: return sum_of(p, x, square);
            case ReduceKind::mean: return sum_of(p, x, val) / static_cast<double>(p.count);
            case ReduceKind::log_sum: return std::log(sum_of(p, x, val));
            case ReduceKind::log_sum_exp: {
                // exp(v - m) for the largest finite m stays in range; no finite value: m = 0.
                double m = -std::numeric_limits<double>::infinity();
                for_each_reduced(p, x, [&](T t) { if (std::isfinite(val(t)) && val(t) > m) m = val(t); });
                if (std::isinf(m)) m = 0;
                return std::log(sum_of(p, x, [&](T t) {
                           return deterministic ? det_exp(static_cast<float>(val(t) - m)) : std::exp(val(t) - m);
                       })) + m;
            }
            default: return sum_of(p, x, val);
        }
    }

    // Integer sums and products wrap around in T as numpy's do: they are kept modulo 2^64
    // in uint64 (no signed overflow), whose low bits are T's result.
    template <class T>
    T reduce_int(const Plan& p, const T* x) const {
        auto bits = [](T t) { return static_cast<uint64_t>(static_cast<int64_t>(t)); };
        auto abs_bits = [&](T t) {
            if constexpr (std::is_signed_v<T>) return t < 0 ? 0 - bits(t) : bits(t);
            else return bits(t);
        };
        uint64_t acc = k_ == ReduceKind::prod ? 1 : 0;
        switch (k_) {
            case ReduceKind::prod: for_each_reduced(p, x, [&](T t) { acc *= bits(t); }); break;
            case ReduceKind::l1: for_each_reduced(p, x, [&](T t) { acc += abs_bits(t); }); break;
            case ReduceKind::l2:
            case ReduceKind::sum_square: for_each_reduced(p, x, [&](T t) { acc += bits(t) * bits(t); }); break;
            default: for_each_reduced(p, x, [&](T t) { acc += bits(t); }); break;
        }
        // L2 is the root of the exact sum of squares, which T need not hold.
        if (k_ == ReduceKind::l2) return saturate_int<T>(std::sqrt(static_cast<double>(acc)));
        const T sum = static_cast<T>(acc);
        if (k_ == ReduceKind::mean) return saturate_int<T>(static_cast<double>(sum) / static_cast<double>(p.count));
        return sum;
    }

    ReduceKind k_;
    std::optional<std::vector<int64_t>> axes_;
    bool keepdims_, noop_;
};

class ArgReduce final : public NamedOp {
public:
    ArgReduce(bool is_max, int64_t axis, bool keepdims, bool last)
        : NamedOp(is_max ? "ArgMax" : "ArgMin"), max_(is_max), axis_(axis), keepdims_(keepdims), last_(last) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t) || is_int_dtype(t), "data cannot be ", dtype_name(t));
        const Dims& d = in[0]->dims;
        require(!d.empty(), "data must have at least one dim");
        const size_t a = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(d.size())));
        require(d[a] > 0, "cannot take ", name(), " along axis ", axis_, " of size 0");
        Dims out = d;
        if (keepdims_) out[a] = 1;
        else out.erase(out.begin() + static_cast<long>(a));
        return {{DType::I64, out}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = in[0].dims;
        const size_t a = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(d.size())));
        const int64_t len = d[a];
        int64_t inner = 1;
        for (size_t i = a + 1; i < d.size(); i++) inner *= d[i];
        const int64_t n_out = out[0].elements();
        int64_t* y = out[0].as<int64_t>();
        visit_dtype(in[0].dtype, "data", [&](auto t) {
            using T = decltype(t);
            using C = Compute<T>;
            const T* x = in[0].as<T>();
            parallel_for(ctx, n_out, [&](int64_t lo, int64_t hi) {
                for (int64_t o = lo; o < hi; o++) {
                    const T* col = x + (o / inner) * len * inner + o % inner;
                    // The first strictly better element, scanning backwards for select_last_index.
                    int64_t best = last_ ? len - 1 : 0;
                    C bv = static_cast<C>(col[best * inner]);
                    for (int64_t s = 1; s < len && !is_nan(bv); s++) {
                        const int64_t j = last_ ? len - 1 - s : s;
                        const C v = static_cast<C>(col[j * inner]);
                        if (is_nan(v) || (max_ ? v > bv : v < bv)) { best = j; bv = v; }
                    }
                    y[o] = best;
                }
            }, std::max<int64_t>(1, 32768 / len));
        });
    }

private:
    bool max_;
    int64_t axis_;
    bool keepdims_, last_;
};

}  // namespace

OpPtr reduce(ReduceKind k, std::optional<std::vector<int64_t>> axes, bool keepdims, bool noop_with_empty_axes) {
    return std::make_shared<Reduce>(k, std::move(axes), keepdims, noop_with_empty_axes);
}

OpPtr arg_reduce(bool is_max, int64_t axis, bool keepdims, bool select_last_index) {
    return std::make_shared<ArgReduce>(is_max, axis, keepdims, select_last_index);
}

}  // namespace lmx::ops::nd
