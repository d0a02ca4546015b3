// The AVX-512 VNNI GEMMs over repacked tiles (packed_weights.hpp), 16 output columns at
// once. q4k: per sub-block of 32 columns, 8 registers of 16 rows' weights are unpacked
// once for all activation rows; each activation row then takes 8 vpdpbusd with 4 of its
// bytes broadcast, one vpmulld by the 16 rows' sub-block scales, and per super-block 4
// vpdpwssd for the mins and two multiply-adds. q8 and q4_1: per block, 8 vpdpbusd per
// activation row and the scaling in ggml's order. Bit-identical to the scalar references.

#include "kernels/avx512_intrinsics.hpp"

#include <cstring>

#include "kernels/kernels.hpp"
#include "kernels/packed_weights.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx512 {

static __m512i broadcast_u32(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(static_cast<int>(v));
}

// The mins' activation side: word p of the result (dword 2p) is s_2p | s_2p+1 << 16, s_j the
// sum of sub-block j's 32 values (two bsums).
static void bsum_pairs(const int16_t* bsums, int32_t* out8) {
    const __m256i s = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)), _mm256_set1_epi16(1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out8), _mm256_blend_epi16(s, _mm256_srli_epi64(s, 16), 0x22));
}

constexpr size_t kAhead = 4 * kPackedQ4KBytes, kAheadQ8 = 16 * kPackedQ8Bytes, kAheadQ41 = 24 * kPackedQ41Bytes;  // 10 KB: without it the VM's hardware prefetch leaves decoding at 60% of this speed

template <int NR>
static void packed_q4k_rows(int64_t k, const uint8_t* tile, const void* const* a, float* y, int64_t ldy) {
    const block_q8_K* x[NR];
    __m512 acc[NR], acc_m[NR];
    for (int r = 0; r < NR; r++) x[r] = static_cast<const block_q8_K*>(a[r]), acc[r] = acc_m[r] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0xF);
    for (int64_t i = 0; i < k / QK_K; i++) {
        const uint8_t* p = tile + static_cast<size_t>(i) * kPackedQ4KBytes;
        const __m512 d = _mm512_loadu_ps(p), dmin = _mm512_loadu_ps(p + 64);
        __m512i tot[NR];
        for (int r = 0; r < NR; r++) tot[r] = _mm512_setzero_si512();
        for (int j = 0; j < 8; j++) {
            for (int l = 0; l < 5; l++) _mm_prefetch(reinterpret_cast<const char*>(p + kAhead + (5 * j + l) * 64), _MM_HINT_T0);
            __m512i w[8];
            for (int c = 0; c < 4; c++) {
                const __m512i bytes = _mm512_loadu_si512(p + 512 + (4 * j + c) * 64);
                w[c] = _mm512_and_si512(bytes, m4);
                w[c + 4] = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), m4);
            }
            const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 128 + 16 * j)));
            for (int r = 0; r < NR; r++) {
                const int8_t* q = x[r][i].qs + 32 * j;
                // two chains of four: the dependency on one accumulator would bind a single row
                __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], broadcast_u32(q));
                __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], broadcast_u32(q + 4));
                for (int c = 2; c < 8; c += 2) {
                    s0 = _mm512_dpbusd_epi32(s0, w[c], broadcast_u32(q + 4 * c));
                    s1 = _mm512_dpbusd_epi32(s1, w[c + 1], broadcast_u32(q + 4 * c + 4));
                }
                tot[r] = _mm512_add_epi32(tot[r], _mm512_mullo_epi32(_mm512_add_epi32(s0, s1), sc));
            }
        }
        for (int r = 0; r < NR; r++) {
            alignas(32) int32_t pairs[8];
            bsum_pairs(x[r][i].bsums, pairs);
            __m512i mn = _mm512_setzero_si512();
            for (int q = 0; q < 4; q++) mn = _mm512_dpwssd_epi32(mn, _mm512_loadu_si512(p + 256 + 64 * q), _mm512_set1_epi32(pairs[2 * q]));
            const __m512 dy = _mm512_set1_ps(x[r][i].d);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[r]), _mm512_mul_ps(d, dy), acc[r]);
            acc_m[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mn), _mm512_mul_ps(dmin, dy), acc_m[r]);
        }
    }
    for (int r = 0; r < NR; r++) _mm512_storeu_ps(y + r * ldy, _mm512_sub_ps(acc[r], acc_m[r]));
}

template <int NR>
static void packed_q8_rows(int64_t k, const uint8_t* tile, const void* const* a, float* y, int64_t ldy) {
    const block_q8_0* x[NR];
    __m512 acc[NR];
    for (int r = 0; r < NR; r++) x[r] = static_cast<const block_q8_0*>(a[r]), acc[r] = _mm512_setzero_ps();
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // y + 128 as unsigned bytes
    for (int64_t i = 0; i < k / QK8_0; i++) {
        const uint8_t* p = tile + static_cast<size_t>(i) * kPackedQ8Bytes;
        for (int l = 0; l < 10; l++) _mm_prefetch(reinterpret_cast<const char*>(p + kAheadQ8 + l * 64), _MM_HINT_T0);
        const __m512 d = _mm512_loadu_ps(p);
        const __m512i bias = _mm512_loadu_si512(p + 64);
        __m512i w[8];
        for (int c = 0; c < 8; c++) w[c] = _mm512_loadu_si512(p + 128 + 64 * c);
        for (int r = 0; r < NR; r++) {
            const int8_t* q = x[r][i].qs;
            __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(broadcast_u32(q), flip), w[0]);
            __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(broadcast_u32(q + 4), flip), w[1]);
            for (int c = 2; c < 8; c += 2) {
                s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(broadcast_u32(q + 4 * c), flip), w[c]);
                s1 = _mm512_dpbusd_epi32(s1, _mm512_xor_si512(broadcast_u32(q + 4 * c + 4), flip), w[c + 1]);
            }
            const __m512i sum = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), bias);
            // (dx·dy)·sumi added, not fused: ggml's scalar Q8_0 and Q5_0 dots, bit for bit
            acc[r] = _mm512_add_ps(acc[r], _mm512_mul_ps(_mm512_mul_ps(d, _mm512_set1_ps(_cvtsh_ss(x[r][i].d))), _mm512_cvtepi32_ps(sum)));
        }
    }
    for (int r = 0; r < NR; r++) _mm512_storeu_ps(y + r * ldy, acc[r]);
}

// The activation rows of the q4_1-format tiles: ggml's Q8_1 blocks (fp16 scale and sum),
// or quantize_u4_q8's rows (the u4 layout: 32 bytes a chunk, then the chunks' f32 scales,
// then their f32 sums).
struct Q8_1Rows {
    const block_q8_1* x;
    static Q8_1Rows of(const void* a, int64_t) { return {static_cast<const block_q8_1*>(a)}; }
    const int8_t* qs(int64_t i) const { return x[i].qs; }
    float d(int64_t i) const { return _cvtsh_ss(x[i].d); }
    float s(int64_t i) const { return _cvtsh_ss(x[i].s); }
};
struct U4Q8Rows {
    const int8_t* q;
    const float* scales;
    int64_t chunks;
    static U4Q8Rows of(const void* a, int64_t k) {
        const auto* q = static_cast<const int8_t*>(a);
        return {q, reinterpret_cast<const float*>(q + k), k / 32};
    }
    const int8_t* qs(int64_t i) const { return q + 32 * i; }
    float d(int64_t i) const { return scales[i]; }
    float s(int64_t i) const { return scales[chunks + i]; }
};

template <int NR, class Rows>
static void packed_q4_1_rows(int64_t k, const uint8_t* tile, const void* const* a, float* y, int64_t ldy) {
    Rows x[NR];
    __m512 acc[NR];
    for (int r = 0; r < NR; r++) x[r] = Rows::of(a[r], k), acc[r] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0xF);
    for (int64_t i = 0; i < k / QK8_1; i++) {
        const uint8_t* p = tile + static_cast<size_t>(i) * kPackedQ41Bytes;
        for (int l = 0; l < 6; l++) _mm_prefetch(reinterpret_cast<const char*>(p + kAheadQ41 + l * 64), _MM_HINT_T0);
        const __m512 d = _mm512_loadu_ps(p), m = _mm512_loadu_ps(p + 64);
        __m512i w[8];
        for (int c = 0; c < 4; c++) {
            const __m512i bytes = _mm512_loadu_si512(p + 128 + 64 * c);
            w[c] = _mm512_and_si512(bytes, m4);
            w[c + 4] = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), m4);
        }
        for (int r = 0; r < NR; r++) {
            const int8_t* q = x[r].qs(i);
            __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], broadcast_u32(q));
            __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], broadcast_u32(q + 4));
            for (int c = 2; c < 8; c += 2) {
                s0 = _mm512_dpbusd_epi32(s0, w[c], broadcast_u32(q + 4 * c));
                s1 = _mm512_dpbusd_epi32(s1, w[c + 1], broadcast_u32(q + 4 * c + 4));
            }
            // (dx·dy)·sumi + m·s, then added: ggml's scalar Q4_1 dot, bit for bit
            const __m512 t = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(d, _mm512_set1_ps(x[r].d(i))),
                                                         _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1))),
                                           _mm512_mul_ps(m, _mm512_set1_ps(x[r].s(i))));
            acc[r] = _mm512_add_ps(acc[r], t);
        }
    }
    for (int r = 0; r < NR; r++) _mm512_storeu_ps(y + r * ldy, acc[r]);
}

void packed_q4k(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    with_row_count(nr, [&](auto rows) { packed_q4k_rows<decltype(rows)::value>(k, tile, a, y, ldy); });
}
void packed_q8(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    with_row_count(nr, [&](auto rows) { packed_q8_rows<decltype(rows)::value>(k, tile, a, y, ldy); });
}
void packed_q4_1(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    with_row_count(nr, [&](auto rows) { packed_q4_1_rows<decltype(rows)::value, Q8_1Rows>(k, tile, a, y, ldy); });
}
void packed_u4(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy) {
    with_row_count(nr, [&](auto rows) { packed_q4_1_rows<decltype(rows)::value, U4Q8Rows>(k, tile, a, y, ldy); });
}

}  // namespace lmx::kernels::avx512
