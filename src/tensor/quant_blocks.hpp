#pragma once
// ggml's quantized block layouts, byte for byte (ggml-common.h). A row of n elements
// is n / block_elems consecutive blocks. Packed (alignment 1) so a block pointer into
// an mmap'ed GGUF file at any offset is valid; fp16 fields are raw IEEE half bits.
#include <cstdint>

namespace lmx {

constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32;
constexpr int QK_K = 256;         // elements of a K-quant super-block
constexpr int K_SCALE_SIZE = 12;  // bytes of the packed 6-bit scales/mins of Q4_K, Q5_K

#pragma pack(push, 1)

struct block_q4_0 {
    uint16_t d;              // scale
    uint8_t qs[QK4_0 / 2];   // element j in the low nibble of qs[j], j+16 in the high nibble
};
struct block_q4_1 {
    uint16_t d, m;           // scale, min
    uint8_t qs[QK4_1 / 2];
};
struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];           // bit j: 5th bit of element j
    uint8_t qs[QK5_0 / 2];
};
struct block_q5_1 {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
};
struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK8_0];
};
struct block_q8_1 {
    uint16_t d;              // scale
    uint16_t s;              // d * sum(qs), lets Q4_1/Q5_1 dots add the min term per block
    int8_t qs[QK8_1];
};

struct block_q2_K {
    uint8_t scales[QK_K / 16];  // 4-bit scale (low) and min (high) per 16 elements
    uint8_t qs[QK_K / 4];       // 2-bit quants
    uint16_t d, dmin;           // super-block scale for the scales, for the mins
};
struct block_q3_K {
    uint8_t hmask[QK_K / 8];    // high bit of each quant
    uint8_t qs[QK_K / 4];       // low 2 bits
    uint8_t scales[12];         // 16 6-bit scales, see unpack_q3_K_scales
    uint16_t d;
};
struct block_q4_K {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];  // 8 6-bit scales and 8 6-bit mins, see get_scale_min_k4
    uint8_t qs[QK_K / 2];
};
struct block_q5_K {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};
struct block_q6_K {
    uint8_t ql[QK_K / 2];       // low 4 bits
    uint8_t qh[QK_K / 4];       // high 2 bits
    int8_t scales[QK_K / 16];   // 8-bit scale per 16 elements
    uint16_t d;
};
struct block_q8_K {
    float d;                    // float, not half: activations only
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];   // sum of each 16 quants, for the min terms of the K dots
};

#pragma pack(pop)

static_assert(sizeof(block_q4_0) == 18 && sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q5_0) == 22 && sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34 && sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q2_K) == 84 && sizeof(block_q3_K) == 110);
static_assert(sizeof(block_q4_K) == 144 && sizeof(block_q5_K) == 176);
static_assert(sizeof(block_q6_K) == 210 && sizeof(block_q8_K) == 292);

// Scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block (ggml's get_scale_min_k4).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// The 16 signed scales of a Q3_K super-block, each 6 bits biased by 32 (ggml unpacks
// the same bits with 32-bit masks; this is the per-byte form of it).
inline void unpack_q3_K_scales(const uint8_t* packed, int8_t* scales) {
    for (int j = 0; j < 16; j++) {
        const int low = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
        const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        scales[j] = static_cast<int8_t>((low | (high << 4)) - 32);
    }
}

}  // namespace lmx
