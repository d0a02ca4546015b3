#include "ops/nd/layout_ops.hpp"

#include <algorithm>
#include <cstring>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

using Offsets = std::vector<std::vector<int64_t>>;

// x's dims reordered: output dim i is x's dim perm[i].
Dims permuted(const Dims& x, const std::vector<int64_t>& perm) {
    Dims d;
    for (int64_t p : perm) d.push_back(x[static_cast<size_t>(p)]);
    return d;
}

// copy_by_offsets tables reading x (row-major) transposed by perm.
Offsets permuted_offsets(const Dims& x, const std::vector<int64_t>& perm) {
    const std::vector<int64_t> st = strides(x);
    Offsets off(perm.size());
    for (size_t i = 0; i < perm.size(); i++) {
        const size_t p = static_cast<size_t>(perm[i]);
        for (int64_t j = 0; j < x[p]; j++) off[i].push_back(j * st[p]);
    }
    return off;
}

class Transpose final : public NamedOp {
public:
    explicit Transpose(std::optional<std::vector<int64_t>> perm) : NamedOp("Transpose"), perm_(std::move(perm)) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        element_bytes(in[0]->dtype, "input");
        return {{in[0]->dtype, permuted(in[0]->dims, perm_for(in[0]->dims.size()))}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        copy_by_offsets(ctx, in[0].data, out[0].data, element_bytes(in[0].dtype, "input"), out[0].dims,
                        permuted_offsets(in[0].dims, perm_for(in[0].dims.size())));
    }

private:
    std::vector<int64_t> perm_for(size_t rank) const {
        std::vector<int64_t> p(rank);
        for (size_t i = 0; i < rank; i++) p[i] = static_cast<int64_t>(rank - 1 - i);
        if (!perm_) return p;
        require(perm_->size() == rank, "perm has ", perm_->size(), " entries for ", rank, " dims");
        std::vector<int64_t> sorted = *perm_;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < rank; i++) require(sorted[i] == static_cast<int64_t>(i), "perm is not a permutation of the ", rank, " dims");
        return *perm_;
    }

    std::optional<std::vector<int64_t>> perm_;
};

class Concat final : public NamedOp {
public:
    explicit Concat(int64_t axis) : NamedOp("Concat"), axis_(axis) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require(!in.empty(), "needs at least one input");
        const Value& first = *in[0];
        element_bytes(first.dtype, "input");
        require(!first.dims.empty(), "inputs must have at least 1 dim");
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(first.dims.size())));
        Dims d = first.dims;
        d[axis] = 0;
        for (const Value* v : in) {
            require(v->dtype == first.dtype, "inputs differ in type: ", dtype_name(first.dtype), " and ", dtype_name(v->dtype));
            bool same = v->dims.size() == first.dims.size();
            for (size_t i = 0; same && i < d.size(); i++) same = i == axis || v->dims[i] == first.dims[i];
            require(same, "cannot join ", graph::dims_text(first.dims), " and ", graph::dims_text(v->dims), " along axis ", axis);
            d[axis] += v->dims[axis];
        }
        return {{first.dtype, std::move(d)}};
    }

    // y as rows of `inner` bytes, outer × d[axis] of them, each a row of one input. A
    // decoder's KV cache joined with the new rows is megabytes a step over a few heads, so
    // the threads split the rows, not the heads.
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = out[0].dims;
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(d.size())));
        const int64_t outer = elements(Dims(d.begin(), d.begin() + static_cast<long>(axis)));
        const size_t inner = dtype_row_bytes(out[0].dtype, elements(Dims(d.begin() + static_cast<long>(axis) + 1, d.end())));
        const int64_t len = d[axis];
        if (inner == 0 || outer * len == 0) return;
        auto* y = static_cast<uint8_t*>(out[0].data);
        parallel_for(ctx, outer * len, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi;) {
                const int64_t o = r / len;
                int64_t j = r % len;
                size_t t = 0;
                for (; j >= in[t].dims[axis]; t++) j -= in[t].dims[axis];  // the input holding row j
                const int64_t n = std::min(hi - r, in[t].dims[axis] - j);
                std::memcpy(y + static_cast<size_t>(r) * inner,
                            static_cast<const uint8_t*>(in[t].data) + static_cast<size_t>(o * in[t].dims[axis] + j) * inner,
                            static_cast<size_t>(n) * inner);
                r += n;
            }
        }, std::max<int64_t>(1, static_cast<int64_t>(65536 / inner)));
    }

private:
    int64_t axis_;
};

class Split final : public NamedOp {
public:
    Split(int64_t axis, size_t n, std::optional<std::vector<int64_t>> sizes)
        : NamedOp("Split"), axis_(axis), n_(n), sizes_(std::move(sizes)) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, sizes_ ? 1 : 2);
        const Value& x = *in[0];
        element_bytes(x.dtype, "input");
        require(!x.dims.empty(), "input must have at least 1 dim");
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.dims.size())));
        const int64_t dim = x.dims[axis];
        std::vector<int64_t> sizes;
        if (sizes_ || present(in, 1)) {
            sizes = sizes_ ? *sizes_ : read_ints(*in[1], "split");
            require(sizes.size() == n_, "split has ", sizes.size(), " sizes for ", n_, " outputs");
            int64_t sum = 0;
            for (int64_t s : sizes) {
                require(s >= 0, "split sizes must not be negative");
                sum += s;
            }
            require(sum == dim, "split sizes add up to ", sum, ", the dim is ", dim);
        } else {
            require(n_ > 0, "needs at least one output");
            const int64_t n = static_cast<int64_t>(n_), part = (dim + n - 1) / n;
            require(dim - part * (n - 1) >= 0, "cannot split a dim of ", dim, " into ", n, " parts of ", part, " (the last smaller)");
            sizes.assign(n_, part);
            sizes.back() = dim - part * (n - 1);
        }
        std::vector<OutputSpec> specs;
        for (int64_t s : sizes) {
            Dims d = x.dims;
            d[axis] = s;
            specs.push_back({x.dtype, std::move(d)});
        }
        return specs;
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = in[0].dims;
        const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(d.size())));
        const int64_t outer = elements(Dims(d.begin(), d.begin() + static_cast<long>(axis)));
        const size_t inner = dtype_row_bytes(in[0].dtype, elements(Dims(d.begin() + static_cast<long>(axis) + 1, d.end())));
        const auto* x = static_cast<const uint8_t*>(in[0].data);
        for (int64_t o = 0; o < outer; o++)
            for (Tensor& t : out) {
                const size_t chunk = static_cast<size_t>(t.dims[axis]) * inner;
                if (chunk) std::memcpy(static_cast<uint8_t*>(t.data) + static_cast<size_t>(o) * chunk, x, chunk);
                x += chunk;
            }
    }

private:
    int64_t axis_;
    size_t n_;
    std::optional<std::vector<int64_t>> sizes_;
};

// Where one dim of a slice starts, its step, and how many elements it keeps.
struct SliceDim {
    int64_t start, step, count;
};

// numpy's x[start:end:step] per sliced axis; the other dims are kept whole.
std::vector<SliceDim> slice_dims(const Dims& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                                 const std::optional<std::vector<int64_t>>& axes_in, const std::optional<std::vector<int64_t>>& steps_in) {
    const size_t n = starts.size();
    const int64_t rank = static_cast<int64_t>(x.size());
    require(ends.size() == n, "starts has ", n, " values, ends ", ends.size());
    std::vector<int64_t> axes(n);
    for (size_t i = 0; i < n; i++) axes[i] = static_cast<int64_t>(i);
    if (axes_in) axes = *axes_in;
    const std::vector<int64_t> steps = steps_in ? *steps_in : std::vector<int64_t>(n, 1);
    require(axes.size() == n, "axes has ", axes.size(), " values, starts ", n);
    require(steps.size() == n, "steps has ", steps.size(), " values, starts ", n);
    std::vector<SliceDim> r;
    for (int64_t d : x) r.push_back({0, 1, d});
    std::vector<bool> seen(x.size());
    for (size_t i = 0; i < n; i++) {
        const size_t a = static_cast<size_t>(normalize_axis(axes[i], rank));
        require(!seen[a], "axis ", a, " is sliced twice");
        seen[a] = true;
        require(steps[i] != 0, "steps must not be 0");
        const int64_t dim = x[a];
        if (dim == 0) { r[a] = {0, 1, 0}; continue; }
        // A step longer than the dim keeps at most one element, as a step of the dim does.
        const int64_t step = std::clamp(steps[i], -dim, dim);
        int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
        int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
        int64_t count;
        if (step > 0) {
            start = std::clamp<int64_t>(start, 0, dim);
            end = std::clamp<int64_t>(end, 0, dim);
            count = end > start ? (end - start - 1) / step + 1 : 0;
        } else {
            start = std::clamp<int64_t>(start, 0, dim - 1);
            end = std::clamp<int64_t>(end, -1, dim - 1);
            count = start > end ? (start - end - 1) / -step + 1 : 0;
        }
        r[a] = {start, step, count};
    }
    return r;
}

class Slice final : public NamedOp {
public:
    explicit Slice(std::optional<SliceAttrs> attrs) : NamedOp("Slice"), attrs_(std::move(attrs)) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, attrs_ ? 1 : 3, attrs_ ? 1 : 5);
        element_bytes(in[0]->dtype, "input");
        Dims d;
        for (const SliceDim& s : plan(in, in[0]->dims)) d.push_back(s.count);
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const std::vector<SliceDim> dims = plan(in, in[0].dims);
        const std::vector<int64_t> st = strides(in[0].dims);
        Offsets off(dims.size());
        for (size_t i = 0; i < dims.size(); i++)
            for (int64_t j = 0; j < dims[i].count; j++) off[i].push_back((dims[i].start + j * dims[i].step) * st[i]);
        copy_by_offsets(ctx, in[0].data, out[0].data, element_bytes(in[0].dtype, "input"), out[0].dims, off);
    }

private:
    // In is a span of Value pointers (infer) or of Tensors (run).
    template <class In>
    std::vector<SliceDim> plan(const In& in, const Dims& x) const {
        if (attrs_) return slice_dims(x, attrs_->starts, attrs_->ends, attrs_->axes, std::nullopt);
        auto ints = [&](size_t i, const char* what) -> std::optional<std::vector<int64_t>> {
            if (!present(in, i)) return std::nullopt;
            if constexpr (std::is_same_v<In, std::span<const Tensor>>) return read_ints(in[i], what);
            else return read_ints(*in[i], what);
        };
        const auto starts = ints(1, "starts"), ends = ints(2, "ends");
        require(starts && ends, "needs starts and ends");
        return slice_dims(x, *starts, *ends, ints(3, "axes"), ints(4, "steps"));
    }

    std::optional<SliceAttrs> attrs_;
};

class Tile final : public NamedOp {
public:
    Tile() : NamedOp("Tile") {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        element_bytes(in[0]->dtype, "input");
        const Dims& x = in[0]->dims;
        const std::vector<int64_t> reps = read_ints(*in[1], "repeats");
        require(reps.size() == x.size(), "repeats has ", reps.size(), " values for ", x.size(), " dims");
        Dims d(x.size());
        for (size_t i = 0; i < x.size(); i++) {
            require(reps[i] >= 0, "repeats must not be negative, got ", reps[i]);
            require(reps[i] == 0 || x[i] <= (int64_t{1} << 48) / reps[i], "repeats make a dim too large");
            d[i] = x[i] * reps[i];
        }
        check_dims(d, "tiled dims");
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const std::vector<int64_t> st = strides(x);
        Offsets off(x.size());
        for (size_t i = 0; i < x.size(); i++)
            for (int64_t j = 0; j < out[0].dims[i]; j++) off[i].push_back(j % x[i] * st[i]);
        copy_by_offsets(ctx, in[0].data, out[0].data, element_bytes(in[0].dtype, "input"), out[0].dims, off);
    }
};

class Pad final : public NamedOp {
public:
    Pad(PadMode mode, std::optional<PadAttrs> attrs) : NamedOp("Pad"), mode_(mode), attrs_(std::move(attrs)) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, attrs_ ? 1 : 2, attrs_ ? 1 : 4);
        element_bytes(in[0]->dtype, "input");
        if (present(in, 2)) {
            require(in[2]->dtype == in[0]->dtype, "constant_value must be ", dtype_name(in[0]->dtype), ", got ", dtype_name(in[2]->dtype));
            require(elements(in[2]->dims) == 1, "constant_value must hold one value");
        }
        const Dims& x = in[0]->dims;
        const std::vector<int64_t> p = pads(in, x.size());
        Dims d(x.size());
        for (size_t i = 0; i < x.size(); i++) {
            d[i] = x[i] + p[i] + p[i + x.size()];
            require(d[i] >= 0, "pads ", p[i], " and ", p[i + x.size()], " remove more than dim ", i, " (", x[i], ")");
            require(mode_ == PadMode::constant || x[i] > 0 || d[i] == 0, "cannot pad an empty dim but with a constant");
        }
        check_dims(d, "padded dims");
        return {{in[0]->dtype, std::move(d)}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const std::vector<int64_t> p = pads(in, x.size());
        const std::vector<int64_t> st = strides(x);
        Offsets off(x.size());
        for (size_t i = 0; i < x.size(); i++)
            for (int64_t j = 0; j < out[0].dims[i]; j++) {
                const int64_t src = source(j - p[i], x[i]);
                off[i].push_back(src < 0 ? -1 : src * st[i]);
            }
        uint64_t fill = 0;  // wide enough for any element
        if (present(in, 2)) {
            std::memcpy(&fill, in[2].data, element_bytes(in[0].dtype, "input"));
        } else {
            const double value = attrs_ ? attrs_->value : 0.0;
            visit_dtype(in[0].dtype, "input", [&](auto t) {
                using T = decltype(t);
                T v;
                if constexpr (is_floating<T>) v = static_cast<T>(static_cast<Compute<T>>(value));
                else if constexpr (std::is_same_v<T, bool>) v = value != 0;
                else v = saturate_int<T>(value);
                std::memcpy(&fill, &v, sizeof(T));
            });
        }
        copy_by_offsets(ctx, in[0].data, out[0].data, element_bytes(in[0].dtype, "input"), out[0].dims, off, &fill);
    }

private:
    // The index of x (along a dim of n) that output position i (relative to x's start)
    // shows, or -1 for the constant.
    int64_t source(int64_t i, int64_t n) const {
        if (i >= 0 && i < n) return i;
        switch (mode_) {
            case PadMode::constant: return -1;
            case PadMode::edge: return i < 0 ? 0 : n - 1;
            case PadMode::wrap: return (i % n + n) % n;
            case PadMode::reflect: {
                if (n == 1) return 0;
                const int64_t period = 2 * (n - 1), m = (i % period + period) % period;
                return m < n ? m : period - m;
            }
        }
        return -1;
    }

    // The begin pads of every dim, then the end pads; In as Slice::plan.
    template <class In>
    std::vector<int64_t> pads(const In& in, size_t rank) const {
        auto ints = [&](size_t i, const char* what) {
            if constexpr (std::is_same_v<In, std::span<const Tensor>>) return read_ints(in[i], what);
            else return read_ints(*in[i], what);
        };
        const std::vector<int64_t> given = attrs_ ? attrs_->pads : ints(1, "pads");
        std::vector<int64_t> axes;
        if (present(in, 3)) {
            axes = ints(3, "axes");
        } else {
            for (size_t i = 0; i < rank; i++) axes.push_back(static_cast<int64_t>(i));
        }
        require(given.size() == 2 * axes.size(), "pads has ", given.size(), " values for ", axes.size(), " axes");
        std::vector<int64_t> p(2 * rank, 0);
        std::vector<bool> seen(rank);
        for (size_t i = 0; i < axes.size(); i++) {
            const size_t a = static_cast<size_t>(normalize_axis(axes[i], static_cast<int64_t>(rank)));
            require(!seen[a], "axis ", a, " is padded twice");
            seen[a] = true;
            const int64_t limit = int64_t{1} << 48;
            for (int64_t v : {given[i], given[i + axes.size()]}) require(v > -limit && v < limit, "pad ", v, " is too large");
            p[a] = given[i];
            p[a + rank] = given[i + axes.size()];
        }
        return p;
    }

    PadMode mode_;
    std::optional<PadAttrs> attrs_;
};

class Trilu final : public NamedOp {
public:
    explicit Trilu(bool upper) : NamedOp(upper ? "Trilu(upper)" : "Trilu(lower)"), upper_(upper) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 2);
        element_bytes(in[0]->dtype, "input");
        require(in[0]->dims.size() >= 2, "input must have at least 2 dims, has ", graph::dims_text(in[0]->dims));
        if (present(in, 1)) require(read_ints(*in[1], "k").size() == 1, "k must hold one value");
        return {{in[0]->dtype, in[0]->dims}};
    }

    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t k = present(in, 1) ? read_ints(in[1], "k")[0] : 0;
        const Dims& d = in[0].dims;
        const int64_t rows = d[d.size() - 2], cols = d.back(), mats = elements(d) / std::max<int64_t>(rows * cols, 1);
        visit_width(in[0].dtype, "input", [&](auto u) {
            using U = decltype(u);
            const U* x = in[0].as<U>();
            U* y = out[0].as<U>();
            for (int64_t m = 0; m < mats * rows; m++) {
                const int64_t i = m % rows;
                for (int64_t j = 0; j < cols; j++) {
                    const bool keep = upper_ ? j - i >= k : j - i <= k;
                    y[m * cols + j] = keep ? x[m * cols + j] : U{0};
                }
            }
        });
    }

private:
    bool upper_;
};

// DepthToSpace and SpaceToDepth: x [B, C, H, W] read as 6 dims and transposed.
class BlockMove final : public NamedOp {
public:
    enum class Kind { depth_to_space_dcr, depth_to_space_crd, space_to_depth_dcr, space_to_depth_crd };
    BlockMove(Kind kind, int64_t block)
        : NamedOp(to_depth(kind) ? "SpaceToDepth" : "DepthToSpace"), kind_(kind), b_(block) {
        require(block > 0 && block < (int64_t{1} << 24), "blocksize must be positive, got ", block);
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        element_bytes(in[0]->dtype, "input");
        const Dims& x = in[0]->dims;
        require(x.size() == 4, "input must have 4 dims, has ", graph::dims_text(x));
        if (to_depth(kind_)) {
            require(x[2] % b_ == 0 && x[3] % b_ == 0, "height and width ", graph::dims_text(x), " must be multiples of blocksize ", b_);
            return {{in[0]->dtype, {x[0], x[1] * b_ * b_, x[2] / b_, x[3] / b_}}};
        }
        require(x[1] % (b_ * b_) == 0, "channels ", x[1], " must be a multiple of blocksize² ", b_ * b_);
        return {{in[0]->dtype, {x[0], x[1] / (b_ * b_), x[2] * b_, x[3] * b_}}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const int64_t n = x[0], c = x[1], h = x[2], w = x[3], b = b_;
        Dims six;
        std::vector<int64_t> perm;
        switch (kind_) {
            case Kind::depth_to_space_dcr: six = {n, b, b, c / (b * b), h, w}; perm = {0, 3, 4, 1, 5, 2}; break;
            case Kind::depth_to_space_crd: six = {n, c / (b * b), b, b, h, w}; perm = {0, 1, 4, 2, 5, 3}; break;
            case Kind::space_to_depth_dcr: six = {n, c, h / b, b, w / b, b}; perm = {0, 3, 5, 1, 2, 4}; break;
            case Kind::space_to_depth_crd: six = {n, c, h / b, b, w / b, b}; perm = {0, 1, 3, 5, 2, 4}; break;
        }
        copy_by_offsets(ctx, in[0].data, out[0].data, element_bytes(in[0].dtype, "input"), permuted(six, perm),
                        permuted_offsets(six, perm));
    }

private:
    static bool to_depth(Kind k) { return k == Kind::space_to_depth_dcr || k == Kind::space_to_depth_crd; }
    Kind kind_;
    int64_t b_;
};

}  // namespace

OpPtr transpose(std::optional<std::vector<int64_t>> perm) { return std::make_shared<Transpose>(std::move(perm)); }
OpPtr concat(int64_t axis) { return std::make_shared<Concat>(axis); }
OpPtr split(int64_t axis, size_t n_outputs, std::optional<std::vector<int64_t>> sizes) {
    return std::make_shared<Split>(axis, n_outputs, std::move(sizes));
}
OpPtr slice(std::optional<SliceAttrs> attrs) { return std::make_shared<Slice>(std::move(attrs)); }
OpPtr tile() { return std::make_shared<Tile>(); }
OpPtr pad(PadMode mode, std::optional<PadAttrs> attrs) { return std::make_shared<Pad>(mode, std::move(attrs)); }
OpPtr trilu(bool upper) { return std::make_shared<Trilu>(upper); }
OpPtr depth_to_space(int64_t block, bool crd) {
    return std::make_shared<BlockMove>(crd ? BlockMove::Kind::depth_to_space_crd : BlockMove::Kind::depth_to_space_dcr, block);
}
OpPtr space_to_depth(int64_t block, bool crd) {
    return std::make_shared<BlockMove>(crd ? BlockMove::Kind::space_to_depth_crd : BlockMove::Kind::space_to_depth_dcr, block);
}

}  // namespace lmx::ops::nd
