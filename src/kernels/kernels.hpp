#pragma once
// Kernel dispatch: a portable scalar table (the reference every other ISA is tested
// against), overridden per ISA after runtime detection. Each ISA lives in its own
// translation unit compiled with its own flags.
#include <cmath>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kernels/packed_weights.hpp"
#include "tensor/dtype.hpp"

namespace lmx::kernels {

enum class Isa { scalar, avx2, avx512, wasm_simd128 };
std::string_view isa_name(Isa isa);

// y = quantized blocks of x (n a multiple of the activation type's block size).
using QuantizeRowFn = void (*)(const float* x, void* y, int64_t n);
// Dot product of one weight row (w) and one activation row (a) already quantized
// to the weight type's activation type; n elements.
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
// The same for one weight row and nr <= kMaxDotRows activation rows: out[r] = w · a[r],
// bit-identical to nr calls of the type's vec_dot (so batching never changes results);
// the weight block is unpacked once for all rows.
constexpr int kMaxDotRows = 4;
using VecDotRowsFn = void (*)(int64_t n, const void* w, const void* const* a, int nr, float* out);
// Calls f(std::integral_constant<int, nr>{}) for nr in 1..kMaxDotRows (anything else: 1), so
// a multi-row kernel template is instantiated once per row count and picked at run time.
template <class F>
void with_row_count(int nr, F&& f) {
    static_assert(kMaxDotRows == 4);
    switch (nr) {
        case 4: f(std::integral_constant<int, 4>{}); break;
        case 3: f(std::integral_constant<int, 3>{}); break;
        case 2: f(std::integral_constant<int, 2>{}); break;
        default: f(std::integral_constant<int, 1>{}); break;
    }
}

// Splits rows into groups of at most kMaxDotRows, as even as possible (5 rows: 3 + 2, not
// 4 + 1: a lone row is the slowest case): f(first_row, count) for each group, in order.
template <class F>
void for_row_groups(int64_t rows, F&& f) {
    const int64_t groups = (rows + kMaxDotRows - 1) / kMaxDotRows;
    for (int64_t g = 0, r = 0; g < groups; g++) {
        const int nr = static_cast<int>((rows - r) / (groups - g) + ((rows - r) % (groups - g) != 0));
        f(r, nr);
        r += nr;
    }
}

// A multi-row kernel's two table entries: Kernel::run<NR>(n, w, a, out) sets out[r] = w · a[r]
// for NR activation rows; vec_dot is its NR = 1 case, so batching never changes a result.
template <class Kernel>
float vec_dot_of(int64_t n, const void* w, const void* a) {
    float out;
    Kernel::template run<1>(n, w, &a, &out);
    return out;
}
template <class Kernel>
void vec_dot_rows_of(int64_t n, const void* w, const void* const* a, int nr, float* out) {
    with_row_count(nr, [&](auto rows) { Kernel::template run<decltype(rows)::value>(n, w, a, out); });
}

// Attention over an fp16 KV cache: dot of fp16 keys with an f32 query, and
// acc += a * fp16 values (attend_det_f16's pieces, kernels/attend_two_pass.hpp).
using DotF16F32Fn = float (*)(int64_t n, const uint16_t* x, const float* y);
using AxpyF16Fn = void (*)(int64_t n, float a, const uint16_t* x, float* y);
// One kv head's attention for the `group` query heads that share it (q: group rows of hd),
// over n cached positions whose fp16 keys and values start at k + j·stride, v + j·stride:
// out[g·hd + i] = Σ_j softmax_j(scale · q_g · k_j) v_j[i], the softmax computed online
// (running maximum and sum), so each key and value row is read and converted once for
// the whole group and no score buffer spans the context. group <= kMaxAttendGroup, n >= 1.
constexpr int kMaxAttendGroup = 64;
using AttendF16Fn = void (*)(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride,
                             int64_t n, float scale, float* out);
// attend_f16's deterministic form, the same bits on every ISA: per head the scores
// scale · (q_g · k_j) (dot_f16_f32_lanes8's order), their maximum, det_exp(s − max), the
// sum of those exponentials j ascending, the values weighted by them summed j ascending
// (multiply, then add), divided by the sum. scores: scratch for group · n floats.
using AttendDetF16Fn = void (*)(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride,
                                int64_t n, float scale, float* scores, float* out);
// y[i] = silu(gate[i]) · up[i] = gate[i] / (1 + e^-gate[i]) · up[i].
using SwigluFn = void (*)(int64_t n, const float* gate, const float* up, float* y);
// In place: x[i] = e^(scale·(x[i] − max x)) / Σ of them, the softmax of a row of scores.
using SoftmaxRowFn = void (*)(int64_t n, float* x, float scale);
// y[i] = det_exp(x[i]) (base/det_math.hpp) with its exact bits on every ISA; x == y allowed.
using ExpRowFn = void (*)(int64_t n, const float* x, float* y);

// f32 matrix product, rows of a against a column range of b: y[r·n + c] = Σ_i a[r·k + i] ·
// b[i·n + c] for r < m and c in [c0, c1), with a m × k, b k × n and y m × n, all row-major
// and dense. Every element sums i ascending (the scalar table: multiply, then add).
using RowsTimesMatrixF32Fn = void (*)(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y,
                                      int64_t c0, int64_t c1);
// The blocking the SIMD versions share, y holding the partial sums between k blocks so
// each element still sums k ascending. One group of up to kMaxDotRows rows (decoding):
// k in blocks of 256, the whole column range at once (b streams from memory). More rows:
// blocks of 64 k × 64 columns of b (16 KB, in L1) that every group of rows passes over
// before the next block. tile(nr, k0, k1, a_rows, y_rows, c0, c1) adds rows [k0, k1) of
// b, columns [c0, c1), times nr rows (an integral_constant) of a into y.
template <class Tile>
void rows_times_matrix_blocked(int64_t m, int64_t k, int64_t c0, int64_t c1, const float* a, float* y, int64_t n, Tile&& tile) {
    const bool one_group = m <= kMaxDotRows;
    const int64_t k_block = one_group ? 256 : 64, c_block = one_group ? c1 - c0 : 64;
    for (int64_t k0 = 0; k0 == 0 || k0 < k; k0 += k_block) {
        const int64_t k1 = k < k0 + k_block ? k : k0 + k_block;
        for (int64_t cc = c0; cc < c1; cc += c_block)
            for (int64_t r0 = 0; r0 < m; r0 += kMaxDotRows)
                with_row_count(static_cast<int>(m - r0 < kMaxDotRows ? m - r0 : kMaxDotRows), [&](auto nr) {
                    tile(nr, k0, k1, a + r0 * k, y + r0 * n, cc, cc + c_block < c1 ? cc + c_block : c1);
                });
    }
}

// The exact GELU, x · Φ(x) with the erf, as BERT and torch's nn.GELU() compute it.
inline float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f)); }

// f32 weights packed for a GEMM: a [k, n] matrix as panels of kF32Panel columns, panel p
// holding its k rows of kF32Panel contiguous floats (columns past n zero), so a kernel's
// tile reads its weights as one contiguous stream. pack_f32_panels takes the [n, k] layout
// of PyTorch's Linear weight (w[c·ld + i]), or with transposed = false [k, n] (w[i·ld + c]).
constexpr int64_t kF32Panel = 16;
inline int64_t f32_panels(int64_t n) { return (n + kF32Panel - 1) / kF32Panel; }
void pack_f32_panels(const float* w, int64_t ld, int64_t n, int64_t k, bool transposed, float* panels);
// Rows [0, m) of y (stride ldy), columns [0, cols) of the panels at `panels` (k rows each):
// y[r·ldy + c] = (k0 == 0 ? 0 : y[r·ldy + c]) + Σ_{k0 <= i < k1} a[r·lda + i] · w[i, c], i
// ascending (SIMD: fused multiply-adds; scalar: multiply, then add), so an element's bits
// depend neither on m nor on how k is split into ranges. When k1 == k: then + bias[c]
// (bias may be nullptr), then GELU when `gelu`: gelu_erf in the scalar reference, an erfc
// approximation within 1.5e-7 in SIMD.
using GemmF32PanelsFn = void (*)(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels,
                                 int64_t cols, float* y, int64_t ldy, const float* bias, bool gelu);

// The same product in bf16 where the CPU multiplies it natively (AVX-512 BF16's
// vdpbf16ps: twice the f32 rate): a's rows and the weights rounded to bf16 (nearest even),
// products exact in f32, sums in f32. k is counted in pairs of values: k2 = ceil(k / 2),
// pair i of a row one uint32 holding value 2i in its low half and 2i + 1 in its high half
// (0 past k), to_bf16_pairs's layout; pack_bf16_panels turns pack_f32_panels's panels
// into panels of k2 rows of kF32Panel such pairs. Each pair adds its odd product, then its
// even one (Intel's order), k ascending, so again no element depends on m or on the split
// of [0, k2) into [k0, k1); bias and GELU as gemm_f32_panels. Only tables whose CPU has the
// instruction have this entry; gemm_bf16_panels_scalar is its reference.
void pack_bf16_panels(const float* f32, int64_t n, int64_t k, uint32_t* panels);
using ToBf16PairsFn = void (*)(int64_t k, const float* x, uint32_t* pairs);
using GemmBf16PanelsFn = void (*)(int64_t m, int64_t k2, int64_t k0, int64_t k1, const uint32_t* a, int64_t lda, const uint32_t* panels,
                                  int64_t cols, float* y, int64_t ldy, const float* bias, bool gelu);
void gemm_bf16_panels_scalar(int64_t m, int64_t k2, int64_t k0, int64_t k1, const uint32_t* a, int64_t lda, const uint32_t* panels,
                             int64_t cols, float* y, int64_t ldy, const float* bias, bool gelu);

// onnxruntime's MatMulNBits 4-bit weights: a weight row of k values as blocks of
// block_size (a power of 2 >= 16; the last block may be partial, its bytes padded), two
// values a byte, low nibble first; block j is (q - z_j) · scales[j] with z_j nibble j of zp
// (low nibble first) or 8 when zp is nullptr. Weight row c starts at q + c·q_stride,
// scales + c·scales_stride, zp + c·zp_stride. offsets, when set, holds −z_j · scales[j]
// per block (stride scales_stride, u4_offsets): the f32 dot may then compute a weight as
// q · scale + offset, one fused multiply-add, instead of unpacking z.
struct U4Weights {
    const uint8_t* q;
    const float* scales;
    const uint8_t* zp;
    int64_t q_stride, scales_stride, zp_stride;
    const float* offsets = nullptr;
};
// offsets[c·blocks + j] = −z_j · scales[j] of weight row c < rows (w.offsets unused).
void u4_offsets(const U4Weights& w, int64_t rows, int64_t blocks, float* offsets);
// out[r·nw + c] = weight row c · a[r] for c < nw and r < nr (both <= kMaxDotRows): each
// weight vector is unpacked once for all rows, each activation vector loaded once for
// all weight rows.
using DotU4F32Fn = void (*)(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out);

// MatMulNBits at accuracy_level 4, where onnxruntime computes in int8: rows of A quantized
// as it does, per group of `group` values (its block_size, a multiple of 32), d = max|x| /
// 127, q = x / d rounded to nearest even. A row of k values takes c = ceil(k / 32) chunks
// (the last padded with zeros): 32·c int8, each 32 stored even-indexed values first, then
// the odd ones (the order of a 4-bit weight row's low and high nibbles), then the c
// scales d (each its group's), then the c products d·Σq of the chunk (for zero points).
inline int64_t u4_q8_chunks(int64_t k) { return (k + 31) / 32; }
inline int64_t u4_q8_row_bytes(int64_t k) { return 40 * u4_q8_chunks(k); }
using QuantizeU4Q8Fn = void (*)(const float* x, void* y, int64_t k, int64_t group);
// out[r·nw + c] = weight row c · a[r] for nw weight rows (any number) and nr <= kMaxDotRows
// rows of A quantized as above; block_size a multiple of 32 (so a weight row, padded to
// whole blocks, covers every chunk). Batching never changes a result: the bits do not
// depend on nw or nr.
using DotU4Q8Fn = void (*)(int64_t k, int64_t block_size, const U4Weights& w, int64_t nw, const void* const* a, int nr, float* out);

constexpr int kMaxDType = 40;

struct WeightKernels {
    DType act_type = DType::F32;  // activation format this weight type multiplies with
    VecDotFn vec_dot = nullptr;   // nullptr: type not supported for matmul
    VecDotRowsFn vec_dot_rows = nullptr;  // nullptr: call vec_dot per row
};

struct Table {
    Isa isa = Isa::scalar;
    WeightKernels weight[kMaxDType];    // indexed by the weight DType's value
    QuantizeRowFn quantize[kMaxDType];  // indexed by the activation DType's value
    DotF16F32Fn dot_f16_f32 = nullptr;
    AxpyF16Fn axpy_f16 = nullptr;
    AttendF16Fn attend_f16 = nullptr;  // nullptr: attend_det_f16 (deterministic tables, WASM)
    AttendDetF16Fn attend_det_f16 = nullptr;  // every table
    SwigluFn swiglu = nullptr;
    SoftmaxRowFn softmax_row = nullptr;
    ExpRowFn exp_det = nullptr;  // deterministic exp, every table
    RowsTimesMatrixF32Fn rows_times_matrix_f32 = nullptr;
    GemmF32PanelsFn gemm_f32_panels = nullptr;
    GemmBf16PanelsFn gemm_bf16_panels = nullptr;  // nullptr: no native bf16 products (and deterministic tables)
    ToBf16PairsFn to_bf16_pairs = nullptr;
    DotU4F32Fn dot_u4_f32 = nullptr;
    QuantizeU4Q8Fn quantize_u4_q8 = nullptr;
    DotU4Q8Fn dot_u4_q8 = nullptr;
    PackedFn packed[kPackedLayouts] = {};  // by PackedLayout; only where they beat the row kernels (AVX-512 VNNI, SIMD128)
};

std::vector<Isa> available_isas();  // scalar first, then what this CPU runs
const Table& table(Isa isa);        // throws lmx::Error when the CPU lacks the ISA
// The fastest table this CPU runs; LMX_ISA=scalar|avx2|avx512|wasm_simd128 in the environment overrides.
const Table& best_table();
// The activation format weights of type w multiply with: the same in every table (ggml's
// vec_dot_type), so a graph may hold activations quantized ahead for any session.
inline DType act_type_of(DType w) { return best_table().weight[static_cast<int>(w)].act_type; }
// Deterministic mode: every entry returns the scalar table's bits (SIMD only where it is
// exact, e.g. the integer sums inside quant blocks), so results do not depend on the ISA.
const Table& deterministic_table(Isa isa);

}  // namespace lmx::kernels
