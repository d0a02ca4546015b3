#pragma once
// Shared by the n-dimensional ops ONNX graphs are made of (ops/nd/*.cpp): numpy
// broadcasting, axis normalization, reading small integer tensors (shapes, axes,
// starts), and dispatch over element types. These ops live in dynamic graphs
// (graph/ir.hpp): infer() sees the inputs' data too, which is how Reshape, Expand,
// Slice and friends learn shapes that were computed by earlier nodes.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "base/fp16.hpp"
#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops::nd {

// Half-precision elements computed in float: arithmetic on them converts, rounds back on store.
struct Half {
    uint16_t bits;
    Half() = default;
    Half(float f) : bits(fp32_to_fp16(f)) {}  // NOLINT: implicit like the built-in float types
    operator float() const { return fp16_to_fp32(bits); }
};
struct BHalf {
    uint16_t bits;
    BHalf() = default;
    BHalf(float f) : bits(static_cast<uint16_t>(round_to_bf16(f))) {}  // NOLINT
    operator float() const { return bf16_to_fp32(bits); }
    static uint32_t round_to_bf16(float f) {  // nearest even; NaN stays NaN
        uint32_t w = fp32_to_bits(f);
        if ((w & 0x7fffffffu) > 0x7f800000u) return (w >> 16) | 0x40u;
        return (w + 0x7fffu + ((w >> 16) & 1u)) >> 16;
    }
};

// Calls f(T{}) with the C++ type of dtype t (Half/BHalf for f16/bf16, bool for BOOL);
// throws naming `what` for a quantized type.
template <class F>
decltype(auto) visit_dtype(DType t, const char* what, F&& f) {
    switch (t) {
        case DType::F32: return f(float{});
        case DType::F64: return f(double{});
        case DType::F16: return f(Half{});
        case DType::BF16: return f(BHalf{});
        case DType::I8: return f(int8_t{});
        case DType::I16: return f(int16_t{});
        case DType::I32: return f(int32_t{});
        case DType::I64: return f(int64_t{});
        case DType::U8: return f(uint8_t{});
        case DType::U16: return f(uint16_t{});
        case DType::U32: return f(uint32_t{});
        case DType::U64: return f(uint64_t{});
        case DType::BOOL: return f(bool{});
        default: fail(what, " cannot be ", dtype_name(t));
    }
}

template <class T> constexpr bool is_floating = std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BHalf>;
// The type arithmetic on T is done in: float for the half types, T otherwise.
template <class T> using Compute = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BHalf>, float, T>;

// v truncated toward zero into integer type I, defined for every v (a plain cast is UB
// out of range): NaN gives 0, values beyond I's range saturate to its limits.
template <class I>
I saturate_int(double v) {
    using L = std::numeric_limits<I>;
    if (std::isnan(v)) return I{0};
    if (v <= static_cast<double>(L::lowest())) return L::lowest();
    if (v >= static_cast<double>(L::max())) return L::max();
    return static_cast<I>(v);
}

inline bool is_float_dtype(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16; }
inline bool is_int_dtype(DType t) {
    return t == DType::I8 || t == DType::I16 || t == DType::I32 || t == DType::I64 || t == DType::U8 ||
           t == DType::U16 || t == DType::U32 || t == DType::U64;
}

// Omitted optional inputs (graph::ValueKind::absent) arrive with no data.
inline bool present(std::span<const Value* const> in, size_t i) { return i < in.size() && in[i]->kind != graph::ValueKind::absent; }
inline bool present(std::span<const Tensor> in, size_t i) { return i < in.size() && in[i].data != nullptr; }

int64_t elements(const Dims& d);
// numpy's multidirectional broadcast of a and b; throws naming both.
Dims broadcast(const Dims& a, const Dims& b);
// Row-major element strides of dims.
std::vector<int64_t> strides(const Dims& d);
// Strides of `in` read as if broadcast to `out` (size-1 and missing leading dims get 0).
std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out);
// axis in [-rank, rank) to [0, rank); throws naming `what`.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* what = "axis");
// The values of a small integer tensor (i64 or i32: shapes, axes, starts...). Its data
// must be known: a constant, or computed (infer of a dynamic graph sees it).
std::vector<int64_t> read_ints(const Value& v, const char* what);
// The same for a tensor bound in run(), which re-reads what infer() read.
std::vector<int64_t> read_ints(const Tensor& t, const char* what);
// One float of a scalar (or one-element) tensor of any float or int type.
double read_scalar(const Value& v, const char* what);

// Bytes of one element of a plain (not quantized) type; throws naming `what` for a quantized one.
size_t element_bytes(DType t, const char* what);
// Calls f(U{}) with the unsigned integer type as wide as one element of t: ops that only
// move elements (Transpose, Slice, Gather...) copy them as such, whatever their type.
template <class F>
decltype(auto) visit_width(DType t, const char* what, F&& f) {
    switch (element_bytes(t, what)) {
        case 1: return f(uint8_t{});
        case 2: return f(uint16_t{});
        case 4: return f(uint32_t{});
        default: return f(uint64_t{});
    }
}
// Dims computed from a tensor's values (Reshape's shape, Tile's repeats, Range's count...):
// throws naming `what` unless every dim is >= 0 and the element count is addressable.
void check_dims(const Dims& d, const char* what);
// Integers read from a tensor as "[a, b, c]" (graph::dims_to_string would show -1 as a symbolic dim).
std::string ints_to_string(const std::vector<int64_t>& v);

// Fills `dst` (dims out, row-major) with elements of `bytes` width taken from `src`: the
// element at index (i_0, ..., i_n-1) is src[offsets[0][i_0] + ... + offsets[n-1][i_n-1]],
// or *fill where any offsets[d][i_d] is negative (Pad's constant border). One table per
// dim expresses Transpose, Slice (any step), Expand, Tile and Pad alike.
void copy_by_offsets(graph::ExecContext& ctx, const void* src, void* dst, size_t bytes, const Dims& out,
                     const std::vector<std::vector<int64_t>>& offsets, const void* fill = nullptr);

// Visits every element of `out` in row-major order with, for each of N inputs
// broadcast to it, the element offset: f(out_index, {off_0, ..., off_N-1}).
template <size_t N, class F>
void for_each_broadcast(const Dims& out, const std::array<const Dims*, N>& in, F&& f) {
    const size_t rank = out.size();
    std::array<std::vector<int64_t>, N> st;
    for (size_t k = 0; k < N; k++) st[k] = broadcast_strides(*in[k], out);
    const int64_t total = elements(out);
    if (total == 0) return;
    std::vector<int64_t> idx(rank, 0);
    std::array<int64_t, N> off{};
    const int64_t inner = rank ? out[rank - 1] : 1;
    for (int64_t i = 0; i < total; i += inner) {
        for (int64_t j = 0; j < inner; j++) {
            std::array<int64_t, N> o;
            for (size_t k = 0; k < N; k++) o[k] = off[k] + (rank ? j * st[k][rank - 1] : 0);
            f(i + j, o);
        }
        // Carry into the outer dims.
        for (size_t d = rank > 0 ? rank - 1 : 0; d-- > 0;) {
            idx[d]++;
            for (size_t k = 0; k < N; k++) off[k] += st[k][d];
            if (idx[d] < out[d]) break;
            for (size_t k = 0; k < N; k++) off[k] -= st[k][d] * out[d];
            idx[d] = 0;
        }
    }
}

}  // namespace lmx::ops::nd
