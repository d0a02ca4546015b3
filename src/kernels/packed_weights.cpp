#include "kernels/packed_weights.hpp"

#include <cmath>
#include <cstddef>
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

struct SuperBlock {  // the sections of one q4k tile's super-block, as packed_weights.hpp lays them out
    float* d;
    float* dmin;
    uint8_t* sc;
    uint32_t* mins;
    uint8_t* q;
    explicit SuperBlock(uint8_t* p)
        : d(reinterpret_cast<float*>(p)), dmin(d + 16), sc(p + 128), mins(reinterpret_cast<uint32_t*>(p + 256)), q(p + 512) {}
};

// The signed weight values of one block of a q8-layout type (32 elements).
void q8_values(DType t, const uint8_t* block, int8_t* out) {
    if (t == DType::Q8_0) {
        std::memcpy(out, reinterpret_cast<const block_q8_0*>(block)->qs, QK8_0);
    } else if (t == DType::Q5_0) {
        const auto& b = *reinterpret_cast<const block_q5_0*>(block);
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        for (int j = 0; j < 16; j++) {
            out[j] = static_cast<int8_t>(((b.qs[j] & 0xF) | ((qh >> j & 1) << 4)) - 16);
            out[j + 16] = static_cast<int8_t>(((b.qs[j] >> 4) | ((qh >> (j + 16) & 1) << 4)) - 16);
        }
    } else {  // Q4_0
        const auto& b = *reinterpret_cast<const block_q4_0*>(block);
        for (int j = 0; j < 16; j++) {
            out[j] = static_cast<int8_t>((b.qs[j] & 0xF) - 8);
            out[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
        }
    }
}

// Every q8-layout block starts with its fp16 scale.
float block_scale(const uint8_t* block) {
    static_assert(offsetof(block_q8_0, d) == 0 && offsetof(block_q5_0, d) == 0 && offsetof(block_q4_0, d) == 0);
    uint16_t d;
    std::memcpy(&d, block, 2);
    return fp16_to_fp32(d);
}

void pack_q4k_tile(const block_q4_K* rows, int64_t nb, uint8_t* tile) {
    for (int64_t i = 0; i < nb; i++) {
        uint8_t* base = tile + static_cast<size_t>(i) * kPackedQ4KBytes;
        std::memset(base, 0, kPackedQ4KBytes);
        SuperBlock s(base);
        for (int r = 0; r < kPackedRows; r++) {
            const block_q4_K& b = rows[r * nb + i];
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

void pack_q8_tile(DType t, const uint8_t* rows, size_t row_bytes, int64_t nb, uint8_t* tile) {
    const size_t block_bytes = dtype_info(t).block_bytes;
    for (int64_t i = 0; i < nb; i++) {
        uint8_t* base = tile + static_cast<size_t>(i) * kPackedQ8Bytes;
        auto* d = reinterpret_cast<float*>(base);
        auto* bias = reinterpret_cast<int32_t*>(base + 64);
        auto* w = reinterpret_cast<int8_t*>(base + 128);
        for (int r = 0; r < kPackedRows; r++) {
            const uint8_t* block = rows + static_cast<size_t>(r) * row_bytes + static_cast<size_t>(i) * block_bytes;
            int8_t v[32];
            q8_values(t, block, v);
            d[r] = block_scale(block);
            int32_t sum = 0;
            for (int e = 0; e < 32; e++) {
                sum += v[e];
                w[(e / 4) * 64 + 4 * r + e % 4] = v[e];
            }
            bias[r] = 128 * sum;
        }
    }
}

// Row r of a q4_1-format tile block (base): its scale d, min m and the 16 bytes qs of 32
// nibbles, activation position j in the low nibble of qs[j] (j < 16) or the high one of
// qs[j - 16] (Q4_1's order, and MatMulNBits' against quantize_u4_q8's activations).
void put_q4_1_row(uint8_t* base, int r, float d, float m, const uint8_t* qs) {
    reinterpret_cast<float*>(base)[r] = d;
    reinterpret_cast<float*>(base)[16 + r] = m;
    uint8_t* q = base + 128;
    uint8_t v[32];
    for (int j = 0; j < 16; j++) v[j] = qs[j] & 0xF, v[j + 16] = qs[j] >> 4;
    for (int c = 0; c < 4; c++)
        for (int e = 0; e < 4; e++) q[c * 64 + 4 * r + e] = static_cast<uint8_t>(v[4 * c + e] | v[4 * (c + 4) + e] << 4);
}

void pack_q4_1_tile(const block_q4_1* rows, int64_t nb, uint8_t* tile) {
    for (int64_t i = 0; i < nb; i++)
        for (int r = 0; r < kPackedRows; r++) {
            const block_q4_1& b = rows[r * nb + i];
            put_q4_1_row(tile + static_cast<size_t>(i) * kPackedQ41Bytes, r, fp16_to_fp32(b.d), fp16_to_fp32(b.m), b.qs);
        }
}

// MatMulNBits rows [0, 16) of w, k values each, into a u4 tile (q4_1's layout).
void pack_u4_tile(const U4Matrix& w, int64_t k, uint8_t* tile) {
    const int64_t blocks = (k + w.block_size - 1) / w.block_size, zp_row = (blocks + 1) / 2;
    for (int64_t i = 0; i < k / 32; i++) {
        const int64_t blk = i * 32 / w.block_size;
        for (int r = 0; r < kPackedRows; r++) {
            const float sw = w.scales[r * blocks + blk];
            const int z = w.zp ? (w.zp[r * zp_row + blk / 2] >> (blk % 2 * 4)) & 0xF : 8;
            put_q4_1_row(tile + static_cast<size_t>(i) * kPackedQ41Bytes, r, sw, -static_cast<float>(z) * sw,
                         w.q + static_cast<size_t>(r * blocks * w.block_size / 2 + i * 16));
        }
    }
}

}  // namespace

PackedWeights::PackedWeights(const U4Matrix& w, int64_t n, int64_t k)
    : dtype_(DType::U8), layout_(PackedLayout::u4), n_(n), k_(k), tile_bytes_(static_cast<size_t>(k / 32) * kPackedQ41Bytes) {
    if (n <= 0 || n % kPackedRows != 0 || k <= 0 || k % 32 != 0 || w.block_size < 32 || w.block_size % 32 != 0)
        fail("repacking MatMulNBits weights needs a multiple of ", kPackedRows, " rows of a multiple of 32 values in blocks of a multiple of 32, got ",
             n, " x ", k, " in blocks of ", w.block_size);
    storage_ = WeightMemory(static_cast<size_t>(n / kPackedRows) * tile_bytes_);
    uint8_t* data = storage_.data();
    const int64_t blocks = (k + w.block_size - 1) / w.block_size, zp_row = (blocks + 1) / 2;
    for (int64_t t = 0; t < n / kPackedRows; t++) {
        const int64_t r0 = t * kPackedRows;
        const U4Matrix rows{w.q + static_cast<size_t>(r0 * blocks * w.block_size / 2), w.scales + r0 * blocks,
                            w.zp ? w.zp + r0 * zp_row : nullptr, w.block_size};
        pack_u4_tile(rows, k, data + static_cast<size_t>(t) * tile_bytes_);
    }
}

bool PackedWeights::packs(DType t) {
    return t == DType::Q4_K || t == DType::Q8_0 || t == DType::Q5_0 || t == DType::Q4_0 || t == DType::Q4_1;
}

PackedWeights::PackedWeights(DType t, const void* rows, int64_t n, int64_t k)
    : dtype_(t), layout_(layout_of(t)), n_(n), k_(k) {
    if (!packs(t)) fail("no packed layout for ", dtype_name(t), " weights");
    const int64_t block = dtype_info(t).block_elems;
    if (n <= 0 || n % kPackedRows != 0 || k <= 0 || k % block != 0)
        fail("repacking ", dtype_name(t), " needs a multiple of ", kPackedRows, " rows of a multiple of ", block, " values, got ", n,
             " x ", k);
    const int64_t nb = k / block;
    tile_bytes_ = static_cast<size_t>(nb) * (layout_ == PackedLayout::q4k ? kPackedQ4KBytes
                                             : layout_ == PackedLayout::q8 ? kPackedQ8Bytes
                                                                           : kPackedQ41Bytes);
    storage_ = WeightMemory(static_cast<size_t>(n / kPackedRows) * tile_bytes_);
    uint8_t* data = storage_.data();
    const size_t row_bytes = dtype_row_bytes(t, k);
    for (int64_t tile = 0; tile < n / kPackedRows; tile++) {
        const auto* first = static_cast<const uint8_t*>(rows) + static_cast<size_t>(tile * kPackedRows) * row_bytes;
        uint8_t* out = data + static_cast<size_t>(tile) * tile_bytes_;
        if (layout_ == PackedLayout::q4k) pack_q4k_tile(reinterpret_cast<const block_q4_K*>(first), nb, out);
        else if (layout_ == PackedLayout::q4_1) pack_q4_1_tile(reinterpret_cast<const block_q4_1*>(first), nb, out);
        else pack_q8_tile(t, first, row_bytes, nb, out);
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

void packed_q8_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    const int64_t nb = k / QK8_0;
    for (int r = 0; r < nr; r++) {
        const auto* x = static_cast<const block_q8_0*>(a[r]);
        for (int lane = 0; lane < kPackedRows; lane++) {
            float acc = 0;
            for (int64_t i = 0; i < nb; i++) {
                const uint8_t* base = tile + static_cast<size_t>(i) * kPackedQ8Bytes;
                float d;
                int32_t bias;
                std::memcpy(&d, base + 4 * lane, 4);
                std::memcpy(&bias, base + 64 + 4 * lane, 4);
                const auto* w = reinterpret_cast<const int8_t*>(base + 128);
                int32_t sum = 0;
                for (int e = 0; e < 32; e++) sum += (x[i].qs[e] + 128) * w[(e / 4) * 64 + 4 * lane + e % 4];
                acc += (d * fp16_to_fp32(x[i].d)) * static_cast<float>(sum - bias);
            }
            y[r * ldy + lane] = acc;
        }
    }
}

namespace {

// The q4_1-format tiles' reference over either activation rows (Rows: qs(i), d(i), s(i)
// of chunk i): per lane, Σ_chunks ((d·y.d)·Σ q·y + m·y.s) in order.
template <class Rows>
void packed_q4_1_format_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    for (int r = 0; r < nr; r++) {
        const Rows x(a[r], k);
        for (int lane = 0; lane < kPackedRows; lane++) {
            float acc = 0;
            for (int64_t i = 0; i < k / 32; i++) {
                const uint8_t* base = tile + static_cast<size_t>(i) * kPackedQ41Bytes;
                float d, m;
                std::memcpy(&d, base + 4 * lane, 4);
                std::memcpy(&m, base + 64 + 4 * lane, 4);
                const uint8_t* q = base + 128;
                const int8_t* qs = x.qs(i);
                int32_t sum = 0;
                for (int e = 0; e < 32; e++) {
                    const uint8_t byte = q[(e % 16) / 4 * 64 + 4 * lane + e % 4];
                    sum += (e < 16 ? byte & 0xF : byte >> 4) * qs[e];
                }
                acc += (d * x.d(i)) * static_cast<float>(sum) + m * x.s(i);
            }
            y[r * ldy + lane] = acc;
        }
    }
}

// Q8_1 blocks (fp16 scale and sum).
struct Q8_1Rows {
    const block_q8_1* x;
    Q8_1Rows(const void* a, int64_t) : x(static_cast<const block_q8_1*>(a)) {}
    const int8_t* qs(int64_t i) const { return x[i].qs; }
    float d(int64_t i) const { return fp16_to_fp32(x[i].d); }
    float s(int64_t i) const { return fp16_to_fp32(x[i].s); }
};

// quantize_u4_q8's rows: 32 bytes a chunk, then the chunks' f32 scales, then their f32 sums.
struct U4Q8Rows {
    const int8_t* q;
    int64_t chunks;
    U4Q8Rows(const void* a, int64_t k) : q(static_cast<const int8_t*>(a)), chunks(k / 32) {}
    const int8_t* qs(int64_t i) const { return q + 32 * i; }
    float d(int64_t i) const { return load_f32(q + 32 * chunks + 4 * i); }
    float s(int64_t i) const { return load_f32(q + 32 * chunks + 4 * (chunks + i)); }
    static float load_f32(const int8_t* p) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
    }
};

}  // namespace

void packed_q4_1_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    packed_q4_1_format_scalar<Q8_1Rows>(k, tile, a, nr, y, ldy);
}

void packed_u4_scalar(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    packed_q4_1_format_scalar<U4Q8Rows>(k, tile, a, nr, y, ldy);
}

}  // namespace lmx::kernels
