#include "ops/nd/nd.hpp"

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
            fail("dims ", graph::dims_to_string(a), " and ", graph::dims_to_string(b), " do not broadcast");
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

double read_scalar(const Value& v, const char* what) {
    if (!v.data) fail(what, " must be known before the graph runs");
    if (elements(v.dims) != 1) fail(what, " must hold one value, has dims ", graph::dims_to_string(v.dims));
    return visit_dtype(v.dtype, what, [&](auto t) { return static_cast<double>(static_cast<Compute<decltype(t)>>(*static_cast<const decltype(t)*>(v.data))); });
}

}  // namespace lmx::ops::nd
