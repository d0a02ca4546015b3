#include "kernels/packed_q4k.hpp"

#include <cmath>
#include <cstring>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels {

namespace {

// Element e (0..255) of a Q4_K super-block: qs[32p + l] holds element 64p + l in its low
// nibble and 64p + 32 + l in its high one.
uint8_t q4k_element(const block_q4_K& b, int e) {
    const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
    return (e % 64) < 32 ? byte & 0xF : byte >> 4;
}

struct SuperBlock {  // the sections of one tile's super-block, as packed_q4k.hpp lays them out
    float* d;
    float* dmin;
    uint8_t* sc;
    uint32_t* mins;
    uint8_t* q;
    explicit SuperBlock(uint8_t* p)
        : d(reinterpret_cast<float*>(p)), dmin(d + 16), sc(p + 128), mins(reinterpret_cast<uint32_t*>(p + 256)), q(p + 512) {}
};

}  // namespace

PackedQ4K::PackedQ4K(const void* q4k_rows, int64_t n, int64_t k) : n_(n), k_(k) {
    if (n <= 0 || n % kPackedRows != 0 || k <= 0 || k % QK_K != 0)
        fail("Q4_K repacking needs a multiple of ", kPackedRows, " rows of a multiple of ", QK_K, " values, got ", n, " x ", k);
    const int64_t nb = k / QK_K;
    storage_.reset(new uint8_t[static_cast<size_t>(n / kPackedRows) * tile_bytes() + 63]);
    data_ = storage_.get() + (-reinterpret_cast<uintptr_t>(storage_.get()) & 63);
    const auto* rows = static_cast<const block_q4_K*>(q4k_rows);
    for (int64_t t = 0; t < n / kPackedRows; t++) {
        for (int64_t i = 0; i < nb; i++) {
            uint8_t* base = data_ + static_cast<size_t>(t) * tile_bytes() + static_cast<size_t>(i) * kPackedQ4KBytes;
            std::memset(base, 0, kPackedQ4KBytes);
            SuperBlock s(base);
            for (int r = 0; r < kPackedRows; r++) {
                const block_q4_K& b = rows[(t * kPackedRows + r) * nb + i];
                s.d[r] = fp16_to_fp32(b.d);
                s.dmin[r] = fp16_to_fp32(b.dmin);
                for (int j = 0; j < 8; j++) {
                    uint8_t sc, m;
                    get_scale_min_k4(j, b.scales, &sc, &m);
                    s.sc[16 * j + r] = sc;
                    s.mins[16 * (j / 2) + r] |= static_cast<uint32_t>(m) << (16 * (j % 2));
                    for (int c = 0; c < 4; c++)
                        for (int e = 0; e < 4; e++)
                            s.q[(4 * j + c) * 64 + 4 * r + e] = static_cast<uint8_t>(
                                q4k_element(b, 32 * j + 4 * c + e) | q4k_element(b, 32 * j + 4 * (c + 4) + e) << 4);
                }
            }
        }
    }
}

void packed_q4k_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    const int64_t nb = k / QK_K;
    for (int r = 0; r < nr; r++) {
        const auto* x = static_cast<const block_q8_K*>(a[r]);
        for (int lane = 0; lane < kPackedRows; lane++) {
            float acc = 0, acc_m = 0;
            for (int64_t i = 0; i < nb; i++) {
                const SuperBlock s(const_cast<uint8_t*>(tile) + static_cast<size_t>(i) * kPackedQ4KBytes);
                int32_t tot = 0, mn = 0;
                for (int j = 0; j < 8; j++) {
                    int32_t sum = 0;
                    for (int c = 0; c < 8; c++)
                        for (int e = 0; e < 4; e++) {
                            const uint8_t byte = s.q[(4 * j + c % 4) * 64 + 4 * lane + e];
                            sum += (c < 4 ? byte & 0xF : byte >> 4) * x[i].qs[32 * j + 4 * c + e];
                        }
                    tot += s.sc[16 * j + lane] * sum;
                    const int32_t m = static_cast<int32_t>(s.mins[16 * (j / 2) + lane] >> (16 * (j % 2)) & 0xFFFF);
                    mn += m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
                }
                acc = std::fma(static_cast<float>(tot), s.d[lane] * x[i].d, acc);
                acc_m = std::fma(static_cast<float>(mn), s.dmin[lane] * x[i].d, acc_m);
            }
            y[r * ldy + lane] = acc - acc_m;
        }
    }
}

}  // namespace lmx::kernels
