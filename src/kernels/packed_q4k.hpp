#pragma once
// Q4_K weights repacked at load time for the AVX-512 VNNI GEMM (prompts, batched
// decoding and single rows alike). 16 weight rows are interleaved so that one vpdpbusd
// multiplies 4 activation bytes (broadcast) by 4 weights of each of the 16 rows: the
// register's lanes are the output columns, so there is no per-(weight row, activation
// row) reduction and every scale applies to 16 outputs at once. In ggml's row layout
// each (row, super-block) pair needs its own scale shuffles and mins: 137 instructions
// for 4 rows against 4 activation rows, ~5x what this layout takes.
//
// A tile holds 16 rows × k columns; per super-block of 256 columns (kPackedQ4KBytes):
//   float d[16], dmin[16]   the rows' super-block scales (fp16 in the file)
//   uint8 sc[8][16]         sub-block scales (6 bits), sub-block major
//   uint32 mins[4][16]      mins of sub-blocks 2p (low 16 bits) and 2p + 1 (high 16 bits)
//   uint8 q[8][4][64]       sub-block j, c < 4: byte 4·row + b holds element 32j + 4c + b
//                           in its low nibble and element 32j + 4(c + 4) + b in its high one
// Row r's dot with a Q8_K row y is, per super-block, d·y.d·Σ_j sc_j·Σ q·y − dmin·y.d·Σ_j m_j·s_j
// (s_j the 32-sum of y's sub-block j, from its bsums): the integer sums are exact, then
// two float multiply-adds per super-block, as ggml's own Q4_K dot.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace lmx::kernels {

constexpr int kPackedRows = 16;
constexpr size_t kPackedQ4KBytes = 2 * 64 + 8 * 16 + 4 * 64 + 8 * 4 * 64;  // 2560 per super-block of a tile

// A matrix of n × k Q4_K weights (n a multiple of 16, k of 256) as n / 16 tiles.
class PackedQ4K {
public:
    PackedQ4K(const void* q4k_rows, int64_t n, int64_t k);  // repacks (about 1 GB/s)
    int64_t n() const { return n_; }
    int64_t k() const { return k_; }
    size_t tile_bytes() const { return static_cast<size_t>(k_ / 256) * kPackedQ4KBytes; }
    const uint8_t* tile(int64_t t) const { return data_ + static_cast<size_t>(t) * tile_bytes(); }

private:
    int64_t n_, k_;
    std::unique_ptr<uint8_t[]> storage_;
    uint8_t* data_;  // storage_ aligned to 64 bytes: every super-block section starts a cache line
};

// y[r·ldy + c] = row c of the tile · a[r] (Q8_K rows of k values) for c < 16, r < nr <= kMaxDotRows.
using PackedQ4KFn = void (*)(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);

// The portable reference; the AVX-512 kernel returns its bits exactly.
void packed_q4k_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);

}  // namespace lmx::kernels
