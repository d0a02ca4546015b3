#include "ops/nd/nd.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace lmx::ops::nd {

int64_t elements(const Dims& d) {
    int64_t n = 1;
    for (int64_t x : d) n *= x;
    return n;
}

Dims broadcast(const Dims& a, const Dims& b) {
    Dims out(std::max(a.size(), b.size()), 1);
    for (size_t i = 0; i < out.size(); i++) {
        int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
        int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
        if (da != db && da != 1 && db != 1)
            fail("dims ", graph::dims_text(a), " and ", graph::dims_text(b), " do not broadcast");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

std::vector<int64_t> strides(const Dims& d) {
    std::vector<int64_t> s(d.size(), 1);
    for (size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
    return s;
}

std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out) {
    std::vector<int64_t> s(out.size(), 0);
    const std::vector<int64_t> own = strides(in);
    const size_t lead = out.size() - in.size();
    for (size_t i = 0; i < in.size(); i++) s[lead + i] = in[i] == 1 ? 0 : own[i];
    return s;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* what) {
    if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
        fail(what, " ", axis, " is out of range for ", rank, " dims");
    return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> read_ints(const Value& v, const char* what) {
    if (v.dtype != DType::I64 && v.dtype != DType::I32) fail(what, " must be int64 or int32, got ", dtype_name(v.dtype));
    if (!v.data) fail(what, " must be known before the graph runs (a constant or a computed value)");
    const int64_t n = elements(v.dims);
    std::vector<int64_t> r(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++)
        r[static_cast<size_t>(i)] = v.dtype == DType::I64 ? static_cast<const int64_t*>(v.data)[i] : static_cast<const int32_t*>(v.data)[i];
    return r;
}

std::vector<int64_t> read_ints(const Tensor& t, const char* what) {
    Value v;
    v.dtype = t.dtype;
    v.dims = t.dims;
    v.data = t.data;
    return read_ints(v, what);
}

double read_scalar(const Value& v, const char* what) {
    if (!v.data) fail(what, " must be known before the graph runs");
    if (elements(v.dims) != 1) fail(what, " must hold one value, has dims ", graph::dims_text(v.dims));
    return visit_dtype(v.dtype, what, [&](auto t) { return static_cast<double>(static_cast<Compute<decltype(t)>>(*static_cast<const decltype(t)*>(v.data))); });
}

size_t element_bytes(DType t, const char* what) {
    const DTypeInfo& info = dtype_info(t);
    if (info.quantized || info.block_elems != 1) fail(what, " cannot be ", dtype_name(t));
    return info.block_bytes;
}

void check_dims(const Dims& d, const char* what) {
    constexpr int64_t kMaxElements = int64_t{1} << 48;  // past any memory, and far from int64 overflow
    int64_t n = 1;
    for (int64_t x : d) {
        if (x < 0) fail(what, " has a negative dim: ", ints_to_string(d));
        if (x != 0 && n > kMaxElements / x) fail(what, " ", ints_to_string(d), " has too many elements");
        n *= x;
    }
}

std::string ints_to_string(const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

namespace {

template <class U>
void copy_typed(graph::ExecContext& ctx, const U* src, U* dst, const Dims& out, const std::vector<std::vector<int64_t>>& off, U fill) {
    const size_t rank = out.size();
    if (rank == 0) { dst[0] = src[0]; return; }
    const int64_t inner = out[rank - 1];
    const int64_t rows = inner == 0 ? 0 : elements(out) / inner;
    if (rows == 0) return;
    const std::vector<int64_t>& last = off[rank - 1];
    bool contiguous = inner > 0 && last[0] >= 0;  // the innermost dim reads a run of src: memcpy it
    for (int64_t j = 1; contiguous && j < inner; j++) contiguous = last[static_cast<size_t>(j)] == last[0] + j;
    parallel_for(ctx, rows, [&](int64_t lo, int64_t hi) {
        std::vector<int64_t> idx(rank - 1);
        for (int64_t r = lo, d = static_cast<int64_t>(rank) - 2; d >= 0; d--) {
            idx[static_cast<size_t>(d)] = r % out[static_cast<size_t>(d)];
            r /= out[static_cast<size_t>(d)];
        }
        for (int64_t row = lo; row < hi; row++) {
            int64_t base = 0;
            bool border = false;
            for (size_t d = 0; d + 1 < rank; d++) {
                const int64_t o = off[d][static_cast<size_t>(idx[d])];
                border |= o < 0;
                base += o;
            }
            U* y = dst + row * inner;
            if (border) std::fill(y, y + inner, fill);
            else if (contiguous) std::memcpy(y, src + base + last[0], static_cast<size_t>(inner) * sizeof(U));
            else
                for (int64_t j = 0; j < inner; j++) {
                    const int64_t o = last[static_cast<size_t>(j)];
                    y[j] = o < 0 ? fill : src[base + o];
                }
            for (size_t d = rank - 1; d-- > 0;) {
                if (++idx[d] < out[d]) break;
                idx[d] = 0;
            }
        }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)));
}

}  // namespace

void copy_by_offsets(graph::ExecContext& ctx, const void* src, void* dst, size_t bytes, const Dims& out,
                     const std::vector<std::vector<int64_t>>& offsets, const void* fill) {
    auto run = [&](auto u) {
        using U = decltype(u);
        U f{};
        if (fill) std::memcpy(&f, fill, sizeof(U));
        copy_typed<U>(ctx, static_cast<const U*>(src), static_cast<U*>(dst), out, offsets, f);
    };
    switch (bytes) {
        case 1: run(uint8_t{}); break;
        case 2: run(uint16_t{}); break;
        case 4: run(uint32_t{}); break;
        case 8: run(uint64_t{}); break;
        default: fail("cannot copy elements of ", bytes, " bytes");
    }
}

}  // namespace lmx::ops::nd
