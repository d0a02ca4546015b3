#include "ops/nd/gather_ops.hpp"

#include <algorithm>
#include <cstring>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

Dims sub(const Dims& d, size_t from, size_t to) {
    return Dims(d.begin() + static_cast<long>(from), d.begin() + static_cast<long>(to));
}

// The values of an index tensor (i32 or i64) with negatives made positive: value i is an
// index into a dim of bounds[i % bounds.size()] (several bounds: k-tuples of coordinates).
// Throws naming the first value outside [-bound, bound), before any element moves.
std::vector<int64_t> checked_indices(const Tensor& t, const std::vector<int64_t>& bounds) {
    std::vector<int64_t> idx = read_ints(t, "indices");
    for (size_t i = 0; i < idx.size(); i++) {
        const int64_t n = bounds[i % bounds.size()];
        if (idx[i] < -n || idx[i] >= n) fail("index ", idx[i], " is out of range for a dim of ", n);
        if (idx[i] < 0) idx[i] += n;
    }
    return idx;
}

void require_index_type(const Value& v) {
    require(v.dtype == DType::I64 || v.dtype == DType::I32, "indices must be int64 or int32, got ", dtype_name(v.dtype));
}

class Gather final : public NamedOp {
public:
    explicit Gather(int64_t axis) : NamedOp("Gather"), axis_(axis) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        element_bytes(in[0]->dtype, "data");
        require_index_type(*in[1]);
        const Dims& x = in[0]->dims;
        require(!x.empty(), "data must have at least 1 dim");
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.size())));
        Dims d = sub(x, 0, axis);
        d.insert(d.end(), in[1]->dims.begin(), in[1]->dims.end());
        d.insert(d.end(), x.begin() + static_cast<long>(axis) + 1, x.end());
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.size())));
        const std::vector<int64_t> idx = checked_indices(in[1], {x[axis]});
        const int64_t outer = elements(sub(x, 0, axis)), n = x[axis], picks = static_cast<int64_t>(idx.size());
        const size_t inner = dtype_row_bytes(in[0].dtype, elements(sub(x, axis + 1, x.size())));
        const auto* src = static_cast<const uint8_t*>(in[0].data);
        auto* dst = static_cast<uint8_t*>(out[0].data);
        parallel_for(ctx, outer * picks, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; r++) {
                const int64_t o = r / picks, i = idx[static_cast<size_t>(r % picks)];
                std::memcpy(dst + static_cast<size_t>(r) * inner, src + static_cast<size_t>(o * n + i) * inner, inner);
            }
        }, std::max<int64_t>(1, 65536 / static_cast<int64_t>(std::max<size_t>(inner, 1))));
    }

private:
    int64_t axis_;
};

// Calls f(p, off) for each position p (row-major) of dims `d`, with off the offset of the
// same coordinates in a tensor of strides `st` (which may be larger than d).
template <class F>
void for_each_position(const Dims& d, const std::vector<int64_t>& st, F&& f) {
    const int64_t n = elements(d);
    std::vector<int64_t> idx(d.size(), 0);
    int64_t off = 0;
    for (int64_t p = 0; p < n; p++) {
        f(p, off);
        for (size_t k = d.size(); k-- > 0;) {
            off += st[k];
            if (++idx[k] < d[k]) break;
            off -= st[k] * d[k];
            idx[k] = 0;
        }
    }
}

// GatherElements and ScatterElements: indices (and updates) of data's rank, each dim no
// larger than data's but along axis.
size_t check_elementwise_indices(std::span<const Value* const> in, int64_t axis_attr) {
    const Dims& x = in[0]->dims;
    const Dims& ix = in[1]->dims;
    require_index_type(*in[1]);
    require(!x.empty(), "data must have at least 1 dim");
    const size_t axis = static_cast<size_t>(normalize_axis(axis_attr, static_cast<int64_t>(x.size())));
    bool fits = ix.size() == x.size();
    for (size_t i = 0; fits && i < x.size(); i++) fits = i == axis || ix[i] <= x[i];
    require(fits, "indices ", graph::dims_text(ix), " do not fit data ", graph::dims_text(x), " off axis ", axis);
    return axis;
}

class GatherElements final : public NamedOp {
public:
    explicit GatherElements(int64_t axis) : NamedOp("GatherElements"), axis_(axis) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        element_bytes(in[0]->dtype, "data");
        check_elementwise_indices(in, axis_);
        return {{in[0]->dtype, in[1]->dims}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.size())));
        const std::vector<int64_t> idx = checked_indices(in[1], {x[axis]});
        std::vector<int64_t> st = strides(x);
        const int64_t axis_stride = st[axis];
        st[axis] = 0;  // the axis coordinate comes from the index
        visit_width(in[0].dtype, "data", [&](auto u) {
            using U = decltype(u);
            const U* src = in[0].as<U>();
            U* dst = out[0].as<U>();
            for_each_position(in[1].dims, st, [&](int64_t p, int64_t off) { dst[p] = src[off + idx[static_cast<size_t>(p)] * axis_stride]; });
        });
    }

private:
    int64_t axis_;
};

// GatherND and ScatterND's addressing: data [batch..., rest...] and indices [..., k]; each
// k-tuple of coordinates names a slice of `slice` elements.
struct NdLayout {
    size_t k;
    int64_t batches, tuples_per_batch, slice, batch_stride;
    std::vector<int64_t> bounds, tuple_strides;  // of the k indexed dims of data
};

NdLayout nd_layout(const Dims& x, const Dims& ix, size_t batch_dims) {
    require(!ix.empty(), "indices must have at least 1 dim");
    require(batch_dims < std::min(x.size(), ix.size()), "batch_dims ", batch_dims, " must be less than the ranks of data (", x.size(),
            ") and indices (", ix.size(), ")");
    const int64_t k = ix.back();
    require(k >= 1 && k <= static_cast<int64_t>(x.size() - batch_dims), "the last dim of indices (", k, ") must be 1..",
            x.size() - batch_dims, " for data ", graph::dims_text(x));
    for (size_t i = 0; i < batch_dims; i++)
        require(ix[i] == x[i], "indices ", graph::dims_text(ix), " and data ", graph::dims_text(x), " differ in batch dim ", i);
    NdLayout l;
    l.k = static_cast<size_t>(k);
    l.batches = elements(sub(x, 0, batch_dims));
    l.tuples_per_batch = elements(sub(ix, batch_dims, ix.size() - 1));
    l.slice = elements(sub(x, batch_dims + l.k, x.size()));
    l.batch_stride = elements(sub(x, batch_dims, x.size()));
    const std::vector<int64_t> st = strides(x);
    for (size_t j = 0; j < l.k; j++) {
        l.bounds.push_back(x[batch_dims + j]);
        l.tuple_strides.push_back(st[batch_dims + j]);
    }
    return l;
}

// Element offset in data of the slice named by tuple t (counted over all batches).
int64_t nd_offset(const NdLayout& l, const std::vector<int64_t>& idx, int64_t t) {
    int64_t off = t / std::max<int64_t>(l.tuples_per_batch, 1) * l.batch_stride;
    for (size_t j = 0; j < l.k; j++) off += idx[static_cast<size_t>(t) * l.k + j] * l.tuple_strides[j];
    return off;
}

class GatherND final : public NamedOp {
public:
    explicit GatherND(int64_t batch_dims) : NamedOp("GatherND"), batch_dims_(batch_dims) {
        require(batch_dims >= 0, "batch_dims must not be negative, got ", batch_dims);
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        element_bytes(in[0]->dtype, "data");
        require_index_type(*in[1]);
        const Dims& x = in[0]->dims;
        const Dims& ix = in[1]->dims;
        const NdLayout l = nd_layout(x, ix, static_cast<size_t>(batch_dims_));
        Dims d = sub(ix, 0, ix.size() - 1);
        d.insert(d.end(), x.begin() + batch_dims_ + static_cast<long>(l.k), x.end());
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const NdLayout l = nd_layout(in[0].dims, in[1].dims, static_cast<size_t>(batch_dims_));
        const std::vector<int64_t> idx = checked_indices(in[1], l.bounds);
        const size_t bytes = element_bytes(in[0].dtype, "data"), slice = static_cast<size_t>(l.slice) * bytes;
        const auto* src = static_cast<const uint8_t*>(in[0].data);
        auto* dst = static_cast<uint8_t*>(out[0].data);
        for (int64_t t = 0; t < l.batches * l.tuples_per_batch; t++)
            std::memcpy(dst + static_cast<size_t>(t) * slice, src + static_cast<size_t>(nd_offset(l, idx, t)) * bytes, slice);
    }

private:
    int64_t batch_dims_;
};

template <class T>
T combine(ScatterReduction r, T old, T update) {
    using C = Compute<T>;
    const C a = static_cast<C>(old), b = static_cast<C>(update);
    switch (r) {
        case ScatterReduction::add: return static_cast<T>(static_cast<C>(a + b));
        case ScatterReduction::mul: return static_cast<T>(static_cast<C>(a * b));
        case ScatterReduction::max: return static_cast<T>(std::max(a, b));
        case ScatterReduction::min: return static_cast<T>(std::min(a, b));
        default: return update;
    }
}

const char* reduction_name(ScatterReduction r) {
    static constexpr const char* names[] = {"none", "add", "mul", "max", "min"};
    return names[static_cast<int>(r)];
}

void check_scatter_types(std::span<const Value* const> in, ScatterReduction r) {
    require(in[2]->dtype == in[0]->dtype, "updates must be ", dtype_name(in[0]->dtype), ", got ", dtype_name(in[2]->dtype));
    visit_dtype(in[0]->dtype, "data", [](auto) {});
    require(r == ScatterReduction::none || in[0]->dtype != DType::BOOL, "reduction ", reduction_name(r), " cannot apply to bool");
}

class ScatterElements final : public NamedOp {
public:
    ScatterElements(int64_t axis, ScatterReduction r) : NamedOp("ScatterElements"), axis_(axis), r_(r) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        check_scatter_types(in, r_);
        check_elementwise_indices(in, axis_);
        require(in[2]->dims == in[1]->dims, "updates ", graph::dims_text(in[2]->dims), " must have the dims of indices ",
                graph::dims_text(in[1]->dims));
        return {{in[0]->dtype, in[0]->dims}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.size())));
        const std::vector<int64_t> idx = checked_indices(in[1], {x[axis]});
        std::vector<int64_t> st = strides(x);
        const int64_t axis_stride = st[axis];
        st[axis] = 0;
        visit_dtype(in[0].dtype, "data", [&](auto t) {
            using T = decltype(t);
            const T* upd = in[2].as<T>();
            T* y = out[0].as<T>();
            std::copy(in[0].as<T>(), in[0].as<T>() + in[0].elements(), y);
            for_each_position(in[1].dims, st, [&](int64_t p, int64_t off) {
                T& e = y[off + idx[static_cast<size_t>(p)] * axis_stride];
                e = combine(r_, e, upd[p]);
            });
        });
    }

private:
    int64_t axis_;
    ScatterReduction r_;
};

class ScatterND final : public NamedOp {
public:
    explicit ScatterND(ScatterReduction r) : NamedOp("ScatterND"), r_(r) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        check_scatter_types(in, r_);
        require_index_type(*in[1]);
        const Dims& x = in[0]->dims;
        const Dims& ix = in[1]->dims;
        const NdLayout l = nd_layout(x, ix, 0);
        Dims want = sub(ix, 0, ix.size() - 1);
        want.insert(want.end(), x.begin() + static_cast<long>(l.k), x.end());
        require(in[2]->dims == want, "updates ", graph::dims_text(in[2]->dims), " must have dims ", graph::dims_text(want));
        return {{in[0]->dtype, x}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const NdLayout l = nd_layout(in[0].dims, in[1].dims, 0);
        const std::vector<int64_t> idx = checked_indices(in[1], l.bounds);
        visit_dtype(in[0].dtype, "data", [&](auto t) {
            using T = decltype(t);
            const T* upd = in[2].as<T>();
            T* y = out[0].as<T>();
            std::copy(in[0].as<T>(), in[0].as<T>() + in[0].elements(), y);
            for (int64_t u = 0; u < l.tuples_per_batch; u++) {
                T* e = y + nd_offset(l, idx, u);
                for (int64_t j = 0; j < l.slice; j++) e[j] = combine(r_, e[j], upd[u * l.slice + j]);
            }
        });
    }

private:
    ScatterReduction r_;
};

class OneHot final : public NamedOp {
public:
    explicit OneHot(int64_t axis) : NamedOp("OneHot"), axis_(axis) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        const DType it = in[0]->dtype;
        require(is_int_dtype(it) || is_float_dtype(it), "indices cannot be ", dtype_name(it));
        element_bytes(in[2]->dtype, "values");
        require(elements(in[2]->dims) == 2, "values must hold [off, on], has dims ", graph::dims_text(in[2]->dims));
        const double depth = read_scalar(*in[1], "depth");
        require(depth >= 1 && depth < 0x1p40, "depth must be positive, got ", depth);
        Dims d = in[0]->dims;
        const int64_t axis = normalize_axis(axis_, static_cast<int64_t>(d.size()) + 1);
        d.insert(d.begin() + axis, static_cast<int64_t>(depth));
        check_dims(d, "output");
        return {{in[2]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = out[0].dims;
        const int64_t axis = normalize_axis(axis_, static_cast<int64_t>(d.size()));
        const int64_t depth = d[static_cast<size_t>(axis)];
        const int64_t outer = elements(sub(d, 0, static_cast<size_t>(axis))), inner = elements(sub(d, static_cast<size_t>(axis) + 1, d.size()));
        std::vector<int64_t> idx(static_cast<size_t>(in[0].elements()));
        visit_dtype(in[0].dtype, "indices", [&](auto t) {
            using T = decltype(t);
            for (size_t i = 0; i < idx.size(); i++) idx[i] = saturate_int<int64_t>(static_cast<double>(static_cast<Compute<T>>(in[0].as<T>()[i])));
        });
        visit_width(out[0].dtype, "values", [&](auto u) {
            using U = decltype(u);
            const U off = in[2].as<U>()[0], on = in[2].as<U>()[1];
            U* y = out[0].as<U>();
            std::fill(y, y + out[0].elements(), off);
            for (int64_t o = 0; o < outer; o++)
                for (int64_t i = 0; i < inner; i++) {
                    int64_t v = idx[static_cast<size_t>(o * inner + i)];
                    if (v < 0) v += depth;
                    if (v >= 0 && v < depth) y[(o * depth + v) * inner + i] = on;  // out of range: all off
                }
        });
    }

private:
    int64_t axis_;
};

class CumSum final : public NamedOp {
public:
    CumSum(bool exclusive, bool reverse) : NamedOp("CumSum"), exclusive_(exclusive), reverse_(reverse) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        const DType t = in[0]->dtype;
        require(is_int_dtype(t) || is_float_dtype(t), "input cannot be ", dtype_name(t));
        const std::vector<int64_t> axis = read_ints(*in[1], "axis");
        require(axis.size() == 1, "axis must hold one value");
        normalize_axis(axis[0], static_cast<int64_t>(in[0]->dims.size()));
        return {{t, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = in[0].dims;
        const size_t axis = static_cast<size_t>(normalize_axis(read_ints(in[1], "axis")[0], static_cast<int64_t>(d.size())));
        const int64_t outer = elements(sub(d, 0, axis)), n = d.empty() ? 1 : d[axis], inner = elements(sub(d, std::min(axis + 1, d.size()), d.size()));
        visit_dtype(in[0].dtype, "input", [&](auto t) {
            using T = decltype(t);
            if constexpr (!std::is_same_v<T, bool>) {
                const T* x = in[0].as<T>();
                T* y = out[0].as<T>();
                parallel_for(ctx, outer, [&](int64_t lo, int64_t hi) {
                    std::vector<T> acc(static_cast<size_t>(inner));
                    for (int64_t o = lo; o < hi; o++) {
                        std::fill(acc.begin(), acc.end(), static_cast<T>(Compute<T>{0}));
                        for (int64_t s = 0; s < n; s++) {
                            const int64_t base = (o * n + (reverse_ ? n - 1 - s : s)) * inner;
                            for (int64_t i = 0; i < inner; i++) {
                                T& a = acc[static_cast<size_t>(i)];
                                const T next = static_cast<T>(static_cast<Compute<T>>(static_cast<Compute<T>>(a) + static_cast<Compute<T>>(x[base + i])));
                                y[base + i] = exclusive_ ? a : next;
                                a = next;
                            }
                        }
                    }
                }, std::max<int64_t>(1, 16384 / std::max<int64_t>(n * inner, 1)));
            }
        });
    }

private:
    bool exclusive_, reverse_;
};

}  // namespace

OpPtr gather(int64_t axis) { return std::make_shared<Gather>(axis); }
OpPtr gather_elements(int64_t axis) { return std::make_shared<GatherElements>(axis); }
OpPtr gather_nd(int64_t batch_dims) { return std::make_shared<GatherND>(batch_dims); }
OpPtr scatter_elements(int64_t axis, ScatterReduction r) { return std::make_shared<ScatterElements>(axis, r); }
OpPtr scatter_nd(ScatterReduction r) { return std::make_shared<ScatterND>(r); }
OpPtr one_hot(int64_t axis) { return std::make_shared<OneHot>(axis); }
OpPtr cum_sum(bool exclusive, bool reverse) { return std::make_shared<CumSum>(exclusive, reverse); }

}  // namespace lmx::ops::nd
