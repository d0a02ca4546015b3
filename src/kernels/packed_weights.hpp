#pragma once
// Weights repacked at load time for the AVX-512 VNNI GEMMs (prompts, batched decoding and
// single rows alike; WebAssembly's SIMD128 GEMMs, wasm_packed.cpp, read the q8 and q4_1
// layouts too). 16 weight rows are interleaved so that one vpdpbusd multiplies 4
// activation bytes (broadcast) by 4 weights of each of the 16 rows: the register's lanes
// are the output columns, so there is no per-(weight row, activation row) reduction and
// every scale applies to 16 outputs at once. In ggml's row layout each (row, block) pair
// needs its own scale shuffles: 137 instructions for a Q4_K super-block of 4 rows against
// 4 activation rows, ~5x what these layouts take.
//
// Two layouts, each a sequence of tiles of 16 rows × k columns:
//
// q4k (Q4_K weights, Q8_K activations), per super-block of 256 columns (kPackedQ4KBytes):
//   float d[16], dmin[16]   the rows' super-block scales (fp16 in the file)
//   uint8 sc[8][16]         sub-block scales (6 bits), sub-block major
//   uint32 mins[4][16]      mins of sub-blocks 2p (low 16 bits) and 2p + 1 (high 16 bits)
//   uint8 q[8][4][64]       sub-block j, c < 4: byte 4·row + b holds element 32j + 4c + b
//                           in its low nibble and element 32j + 4(c + 4) + b in its high one
// Row r's dot with a Q8_K row y is, per super-block, d·y.d·Σ_j sc_j·Σ q·y − dmin·y.d·Σ_j m_j·s_j
// (s_j the 32-sum of y's sub-block j, from its bsums): the integer sums are exact, then
// two float multiply-adds per super-block, as ggml's own Q4_K dot.
//
// q8 (Q8_0, Q5_0 and Q4_0 weights: Q8_0 activations), per block of 32 columns (kPackedQ8Bytes):
//   float d[16]             the rows' block scales
//   int32 bias[16]          128 · Σ w of the row's block (vpdpbusd multiplies unsigned by
//                           signed bytes: the activations go in as y + 128, this takes it out)
//   int8 w[8][64]           c < 8: byte 4·row + b holds the weight value of element 4c + b
//                           (Q5_0's q − 16, Q4_0's q − 8, Q8_0's q)
// Row r's dot with a Q8_0 row y is Σ_blocks (d·y.d)·(Σ (y + 128)·w − bias), a multiply and
// an add per block: bit for bit ggml's scalar Q8_0 and Q5_0 dots (Q4_0's multiplies in
// another order).
//
// q4_1 (Q4_1 weights, Q8_1 activations), per block of 32 columns (kPackedQ41Bytes):
//   float d[16], m[16]      the rows' block scales and mins
//   uint8 q[4][64]          c < 4: byte 4·row + b holds element 4c + b in its low nibble and
//                           element 4(c + 4) + b in its high one
// Row r's dot with a Q8_1 row y is Σ_blocks ((d·y.d)·Σ q·y + m·y.s): ggml's scalar Q4_1 dot
// bit for bit.
//
// u4 (onnxruntime's MatMulNBits 4-bit weights, int8 activations as quantize_u4_q8 writes
// them: kernels.hpp), q4_1's bytes per 32 columns with d = the block's scale sw and
// m = −z·sw (z its zero point, 8 without): byte j of a MatMulNBits block holds element 2j
// in its low nibble and 2j + 1 in its high one, and quantize_u4_q8 stores a chunk's even
// elements first, then its odd ones, so low nibble j meets activation byte j and high
// nibble j byte 16 + j, as in Q4_1. Row r's dot with a row y of chunk scales y.d and sums
// y.s = y.d·Σ y is Σ_chunks ((sw·y.d)·Σ q·y + m·y.s) = Σ sw·y.d·Σ (q − z)·y, onnxruntime's
// int8 product (its rounding may differ in the last bits).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/weight_memory.hpp"
#include "tensor/dtype.hpp"

namespace lmx::kernels {

constexpr int kPackedRows = 16;
constexpr size_t kPackedQ4KBytes = 2 * 64 + 8 * 16 + 4 * 64 + 8 * 4 * 64;  // 2560 per super-block of a tile
constexpr size_t kPackedQ8Bytes = 64 + 64 + 8 * 64;                          // 640 per block of a tile
constexpr size_t kPackedQ41Bytes = 64 + 64 + 4 * 64;                         // 384 per block of a tile

enum class PackedLayout { q4k, q8, q4_1, u4 };
constexpr int kPackedLayouts = 4;

// MatMulNBits' 4-bit weights (kernels.hpp's U4Weights for one contiguous matrix): row c's
// blocks at q + c·ceil(k / block_size)·block_size / 2, its scales and packed zero points
// (nullptr: 8) likewise.
struct U4Matrix {
    const uint8_t* q;
    const float* scales;
    const uint8_t* zp;
    int64_t block_size;  // a multiple of 32
};

// A matrix of n × k weights (n a multiple of 16, k of the type's block) as n / 16 tiles.
class PackedWeights {
public:
    static bool packs(DType t);  // Q4_K, Q8_0, Q5_0, Q4_0, Q4_1
    // The layout's kernels return the scalar vec_dot's bits for this type (Q8_0, Q5_0 and
    // Q4_1; Q4_0's scales multiply in another order, Q4_K's fuse), so deterministic mode,
    // held to the scalar table's bits, takes them too.
    static bool equals_row_dot(DType t) { return t == DType::Q8_0 || t == DType::Q5_0 || t == DType::Q4_1; }
    static PackedLayout layout_of(DType t) {
        return t == DType::Q4_K ? PackedLayout::q4k : t == DType::Q4_1 ? PackedLayout::q4_1 : PackedLayout::q8;
    }
    PackedWeights(DType t, const void* rows, int64_t n, int64_t k);  // repacks (about 1 GB/s)
    PackedWeights(const U4Matrix& w, int64_t n, int64_t k);  // the u4 layout; k a multiple of 32
    PackedLayout layout() const { return layout_; }
    DType dtype() const { return dtype_; }
    int64_t n() const { return n_; }
    int64_t k() const { return k_; }
    size_t tile_bytes() const { return tile_bytes_; }
    const uint8_t* tile(int64_t t) const { return storage_.data() + static_cast<size_t>(t) * tile_bytes_; }

private:
    DType dtype_;
    PackedLayout layout_;
    int64_t n_, k_;
    size_t tile_bytes_;
    WeightMemory storage_;  // aligned to 64 bytes: every section starts a cache line
};

// y[r·ldy + c] = row c of the tile · a[r] for c < 16, r < nr <= kMaxDotRows; a holds rows of
// k values in the layout's activation type (Q8_K for q4k, Q8_0 for q8, Q8_1 for q4_1,
// quantize_u4_q8's rows for u4).
using PackedFn = void (*)(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);

// The portable references; the AVX-512 kernels return their bits exactly.
void packed_q4k_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);
void packed_q8_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);
void packed_q4_1_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);
void packed_u4_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);

}  // namespace lmx::kernels
