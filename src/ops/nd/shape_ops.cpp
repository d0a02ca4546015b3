#include "ops/nd/shape_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

int64_t rank_of(const Value& v) { return static_cast<int64_t>(v.dims.size()); }

// Shape and Size: i64 outputs computed from the input's dims alone.
class Shape final : public NamedOp {
public:
    Shape(int64_t start, std::optional<int64_t> end) : NamedOp("Shape"), start_(start), end_(end) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        const auto [lo, hi] = bounds(rank_of(*in[0]));
        return {{DType::I64, {hi - lo}}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const auto [lo, hi] = bounds(static_cast<int64_t>(in[0].dims.size()));
        std::copy(in[0].dims.begin() + lo, in[0].dims.begin() + hi, out[0].as<int64_t>());
    }

private:
    // [start, end) clamped to [0, rank]; empty when end <= start.
    std::pair<int64_t, int64_t> bounds(int64_t rank) const {
        auto clamp = [&](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
        const int64_t lo = clamp(start_), hi = end_ ? clamp(*end_) : rank;
        return {lo, std::max(lo, hi)};
    }
    int64_t start_;
    std::optional<int64_t> end_;
};

class Size final : public NamedOp {
public:
    Size() : NamedOp("Size") {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        return {{DType::I64, {}}};
    }
    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        *out[0].as<int64_t>() = in[0].elements();
    }
};

// Ops that give the input's elements new dims; the output is a copy of the bytes.
class Redim : public NamedOp {
public:
    using NamedOp::NamedOp;

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require(!in.empty(), "needs an input");
        element_bytes(in[0]->dtype, "input");
        Dims d = dims(in);
        require(elements(d) == elements(in[0]->dims), "cannot give ", graph::dims_text(in[0]->dims), " the dims ",
                graph::dims_text(d));
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const size_t bytes = dtype_row_bytes(in[0].dtype, in[0].elements());
        if (bytes) std::memcpy(out[0].data, in[0].data, bytes);
    }

protected:
    virtual Dims dims(std::span<const Value* const> in) const = 0;
};

class Reshape final : public Redim {
public:
    Reshape(bool allow_zero, std::optional<std::vector<int64_t>> dims) : Redim("Reshape"), allow_zero_(allow_zero), fixed_(std::move(dims)) {}

protected:
    Dims dims(std::span<const Value* const> in) const override {
        require_inputs(in, fixed_ ? 1 : 2, fixed_ ? 1 : 2);
        const Dims& x = in[0]->dims;
        if (!fixed_) require(in[1]->dims.size() == 1, "shape must have 1 dim, has ", in[1]->dims.size());
        const std::vector<int64_t> given = fixed_ ? *fixed_ : read_ints(*in[1], "shape");
        const std::string shown_shape = ints_to_string(given);
        for (int64_t v : given) require(v >= -1, "shape ", shown_shape, " has a negative dim other than -1");
        Dims d = given;
        int64_t infer_at = -1;
        for (size_t i = 0; i < d.size(); i++) {
            if (d[i] == -1) {
                require(infer_at < 0, "shape ", shown_shape, " has more than one -1");
                infer_at = static_cast<int64_t>(i);
                d[i] = 1;  // for check_dims, until known
            } else if (d[i] == 0 && !allow_zero_) {
                require(i < x.size(), "shape ", shown_shape, " copies dim ", i, " (a 0) of an input with ", x.size(), " dims");
                d[i] = x[i];
            }
        }
        check_dims(d, "shape");
        if (infer_at >= 0) {
            const int64_t known = elements(d);
            require(known != 0, "shape ", shown_shape, " has a -1 next to a 0 dim");
            require(elements(x) % known == 0, "cannot reshape ", graph::dims_text(x), " to ", shown_shape);
            d[static_cast<size_t>(infer_at)] = elements(x) / known;
        }
        return d;
    }

private:
    bool allow_zero_;
    std::optional<std::vector<int64_t>> fixed_;
};

class Flatten final : public Redim {
public:
    explicit Flatten(int64_t axis) : Redim("Flatten"), axis_(axis) {}

protected:
    Dims dims(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        const Dims& x = in[0]->dims;
        const int64_t r = static_cast<int64_t>(x.size());
        require(axis_ >= -r && axis_ <= r, "axis ", axis_, " is out of range for ", r, " dims");
        const auto split = x.begin() + (axis_ < 0 ? axis_ + r : axis_);
        return {elements(Dims(x.begin(), split)), elements(Dims(split, x.end()))};
    }

private:
    int64_t axis_;
};

// Axes from the op's attribute, else from input 1 (opset 13+); normalized against `rank`,
// with duplicates refused.
std::vector<int64_t> read_axes(const std::optional<std::vector<int64_t>>& fixed, std::span<const Value* const> in, int64_t rank) {
    std::vector<int64_t> axes = fixed ? *fixed : read_ints(*in[1], "axes");
    for (int64_t& a : axes) a = normalize_axis(a, rank, "axis");
    std::vector<int64_t> sorted = axes;
    std::sort(sorted.begin(), sorted.end());
    require(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), "axes repeat a dim");
    return sorted;
}

class Squeeze final : public Redim {
public:
    explicit Squeeze(std::optional<std::vector<int64_t>> axes) : Redim("Squeeze"), fixed_(std::move(axes)) {}

protected:
    Dims dims(std::span<const Value* const> in) const override {
        require_inputs(in, 1, fixed_ ? 1 : 2);
        const Dims& x = in[0]->dims;
        Dims d;
        if (!fixed_ && !present(in, 1)) {
            for (int64_t v : x)
                if (v != 1) d.push_back(v);
            return d;
        }
        const std::vector<int64_t> axes = read_axes(fixed_, in, static_cast<int64_t>(x.size()));
        for (size_t i = 0; i < x.size(); i++) {
            const bool drop = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
            require(!drop || x[i] == 1, "cannot squeeze dim ", i, " of ", graph::dims_text(x), ": it is not 1");
            if (!drop) d.push_back(x[i]);
        }
        return d;
    }

private:
    std::optional<std::vector<int64_t>> fixed_;
};

class Unsqueeze final : public Redim {
public:
    explicit Unsqueeze(std::optional<std::vector<int64_t>> axes) : Redim("Unsqueeze"), fixed_(std::move(axes)) {}

protected:
    Dims dims(std::span<const Value* const> in) const override {
        require_inputs(in, fixed_ ? 1 : 2, fixed_ ? 1 : 2);
        const Dims& x = in[0]->dims;
        const size_t n_axes = fixed_ ? fixed_->size() : static_cast<size_t>(elements(in[1]->dims));
        const int64_t rank = static_cast<int64_t>(x.size() + n_axes);
        const std::vector<int64_t> axes = read_axes(fixed_, in, rank);
        Dims d;
        auto next = x.begin();
        for (int64_t i = 0; i < rank; i++)
            d.push_back(std::binary_search(axes.begin(), axes.end(), i) ? 1 : *next++);
        return d;
    }

private:
    std::optional<std::vector<int64_t>> fixed_;
};

class Expand final : public NamedOp {
public:
    Expand() : NamedOp("Expand") {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        element_bytes(in[0]->dtype, "input");
        require(in[1]->dims.size() == 1, "shape must have 1 dim, has ", in[1]->dims.size());
        const std::vector<int64_t> shape = read_ints(*in[1], "shape");
        check_dims(shape, "shape");
        Dims d = broadcast(in[0]->dims, shape);
        check_dims(d, "expanded shape");
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = out[0].dims;
        const std::vector<int64_t> st = broadcast_strides(in[0].dims, d);
        std::vector<std::vector<int64_t>> off(d.size());
        for (size_t i = 0; i < d.size(); i++)
            for (int64_t j = 0; j < d[i]; j++) off[i].push_back(j * st[i]);
        copy_by_offsets(ctx, in[0].data, out[0].data, element_bytes(in[0].dtype, "input"), d, off);
    }
};

// Fills an output of dims given by the i64 tensor input with copies of one element.
void fill_elements(const Tensor& out, const void* value) {
    visit_width(out.dtype, "output", [&](auto u) {
        using U = decltype(u);
        U v;
        std::memcpy(&v, value, sizeof(U));
        std::fill(out.as<U>(), out.as<U>() + out.elements(), v);
    });
}

class ConstantOfShape final : public NamedOp {
public:
    ConstantOfShape(DType dtype, std::vector<uint8_t> value) : NamedOp("ConstantOfShape"), dtype_(dtype), value_(std::move(value)) {
        require(value_.size() == element_bytes(dtype_, "value"), "value must hold one element");
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(in[0]->dims.size() == 1, "shape must have 1 dim, has ", in[0]->dims.size());
        Dims d = read_ints(*in[0], "shape");
        check_dims(d, "shape");
        return {{dtype_, std::move(d)}};
    }

    void run(graph::ExecContext&, std::span<const Tensor>, std::span<Tensor> out) const override {
        fill_elements(out[0], value_.data());
    }

private:
    DType dtype_;
    std::vector<uint8_t> value_;
};

class Range final : public NamedOp {
public:
    Range() : NamedOp("Range") {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 3);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t) || is_int_dtype(t), "inputs cannot be ", dtype_name(t));
        for (size_t i = 0; i < 3; i++) {
            require(in[i]->dtype == t, "inputs must share one type, got ", dtype_name(t), " and ", dtype_name(in[i]->dtype));
            require(elements(in[i]->dims) == 1, "start, limit and delta must be scalars");
            require(in[i]->data, "start, limit and delta must be known before the node runs");
        }
        const int64_t n = visit_dtype(t, "input", [&](auto v) { return count<decltype(v)>(in); });
        return {{t, {n}}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto v) {
            using T = decltype(v);
            using C = Compute<T>;
            const C start = *in[0].as<T>(), delta = *in[2].as<T>();
            T* y = out[0].as<T>();
            for (int64_t i = 0; i < out[0].elements(); i++) {
                if constexpr (is_floating<T>) {
                    y[i] = static_cast<T>(static_cast<C>(static_cast<double>(start) + static_cast<double>(i) * static_cast<double>(delta)));
                } else {  // in u64, where wrapping is defined; the count keeps the result in T's range
                    const uint64_t r = static_cast<uint64_t>(start) + static_cast<uint64_t>(i) * static_cast<uint64_t>(delta);
                    y[i] = static_cast<T>(r);
                }
            }
        });
    }

private:
    // max(ceil((limit - start) / delta), 0), exactly for integers (no overflow of limit - start).
    template <class T>
    static int64_t count(std::span<const Value* const> in) {
        using C = Compute<T>;
        const C start = *static_cast<const T*>(in[0]->data), limit = *static_cast<const T*>(in[1]->data),
                delta = *static_cast<const T*>(in[2]->data);
        if constexpr (std::is_same_v<T, bool>) {
            fail("inputs cannot be bool");
        } else if constexpr (is_floating<T>) {
            const double n = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
            require(std::isfinite(n) && n < 0x1p48, "range ", static_cast<double>(start), " to ", static_cast<double>(limit), " by ",
                    static_cast<double>(delta), " has no finite length");
            return std::max<int64_t>(static_cast<int64_t>(n), 0);
        } else {
            require(delta != 0, "delta must not be 0");
            using U = uint64_t;
            if (delta > 0 ? limit <= start : limit >= start) return 0;
            const U span = delta > 0 ? static_cast<U>(limit) - static_cast<U>(start) : static_cast<U>(start) - static_cast<U>(limit);
            const U step = delta > 0 ? static_cast<U>(delta) : U{0} - static_cast<U>(delta);
            const U n = (span - 1) / step + 1;
            require(n < (U{1} << 48), "range has too many elements (", n, ")");
            return static_cast<int64_t>(n);
        }
    }
};

class EyeLike final : public NamedOp {
public:
    EyeLike(std::optional<DType> dtype, int64_t k) : NamedOp("EyeLike"), dtype_(dtype), k_(k) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(in[0]->dims.size() == 2, "input must have 2 dims, has ", graph::dims_text(in[0]->dims));
        const DType t = dtype_.value_or(in[0]->dtype);
        visit_dtype(t, "output", [](auto) {});
        return {{t, in[0]->dims}};
    }

    void run(graph::ExecContext&, std::span<const Tensor>, std::span<Tensor> out) const override {
        visit_dtype(out[0].dtype, "output", [&](auto v) {
            using T = decltype(v);
            T* y = out[0].as<T>();
            const int64_t rows = out[0].dims[0], cols = out[0].dims[1];
            const int64_t k = std::clamp(k_, -rows, cols);  // past the matrix either way: no ones
            std::fill(y, y + rows * cols, static_cast<T>(Compute<T>{0}));
            for (int64_t i = std::max<int64_t>(0, -k); i < rows && i + k < cols; i++) y[i * cols + i + k] = static_cast<T>(Compute<T>{1});
        });
    }

private:
    std::optional<DType> dtype_;
    int64_t k_;
};

}  // namespace

OpPtr shape(int64_t start, std::optional<int64_t> end) { return std::make_shared<Shape>(start, end); }
OpPtr size() { return std::make_shared<Size>(); }
OpPtr reshape(bool allow_zero, std::optional<std::vector<int64_t>> dims) { return std::make_shared<Reshape>(allow_zero, std::move(dims)); }
OpPtr flatten(int64_t axis) { return std::make_shared<Flatten>(axis); }
OpPtr squeeze(std::optional<std::vector<int64_t>> axes) { return std::make_shared<Squeeze>(std::move(axes)); }
OpPtr unsqueeze(std::optional<std::vector<int64_t>> axes) { return std::make_shared<Unsqueeze>(std::move(axes)); }
OpPtr expand() { return std::make_shared<Expand>(); }
OpPtr constant_of_shape(DType dtype, std::vector<uint8_t> value) { return std::make_shared<ConstantOfShape>(dtype, std::move(value)); }
OpPtr range() { return std::make_shared<Range>(); }
OpPtr eye_like(std::optional<DType> dtype, int64_t k) { return std::make_shared<EyeLike>(dtype, k); }

}  // namespace lmx::ops::nd
