// AVX-512 VNNI dot products for the 32-element block quants: Q4_1 x Q8_1 (the default
// model), Q8_0 and Q5_0 x Q8_0 (Gemma 3's). Two blocks per 512-bit register, vpdpbusd
// for the 64 byte products.

#include "kernels/avx512_intrinsics.hpp"

#include "kernels/avx2.hpp"
#include "kernels/isa_tables.hpp"
#include "kernels/simd_avx512.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx512 {

// avx512_attention.cpp
void attend_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* out);
void swiglu(int64_t n, const float* gate, const float* up, float* y);
void softmax_row(int64_t n, float* x, float scale);
void exp_det(int64_t n, const float* x, float* y);  // avx512_deterministic.cpp, exact: every table
void attend_det_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                    float scale, float* scores, float* out);
void rows_times_matrix_f32(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* y, int64_t c0, int64_t c1);  // avx512_matmul.cpp
void gemm_f32_panels(int64_t m, int64_t k, int64_t k0, int64_t k1, const float* a, int64_t lda, const float* panels, int64_t cols,
                     float* y, int64_t ldy, const float* bias, bool gelu);  // avx512_matmul.cpp
void dot_u4_f32(int64_t k, int64_t block_size, const U4Weights& w, int nw, const float* const* a, int nr, float* out);
void dot_u4_q8(int64_t k, int64_t block_size, const U4Weights& w, int64_t nw, const void* const* a, int nr, float* out);  // avx512_u4_q8.cpp
void add_k_quant_kernels(Table& t);  // avx512_dot_k.cpp: Q4_K and Q6_K
void packed_q4k(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);  // avx512_packed.cpp
void packed_q8(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);
void packed_q4_1(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);
void packed_u4(int64_t k, const uint8_t* tile, const void* const* a, int nr, float* y, int64_t ldy);

// Blocks go in fours: their 8 fp16 scales sit at fixed offsets inside 64-128 bytes, so
// a few wide loads, one or two permutes and one vcvtph2ps fetch them all (converting per
// block costs as much as the integer dot itself). Two accumulators, one per block pair.

static __m512 bytes_as_f32(const void* p) { return _mm512_castsi512_ps(_mm512_loadu_si512(p)); }

// [v[i] x8 | v[j] x8]
static __m512 spread_pair(__m256 v, int i, int j) {
    const __m512i idx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(i)), _mm256_set1_epi32(j), 1);
    return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(v));
}

// 16 halves -> the products of the low 8 and the high 8 as floats.
static __m256 halves_product(__m256i h) {
    const __m512 f = _mm512_cvtph_ps(h);
    return _mm256_mul_ps(_mm512_castps512_ps256(f), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
}

// [dx0*dy0, mx0*sy0, ..., dx3*dy3, mx3*sy3] of 4 blocks. The (d, m) dwords of Q4_1 blocks
// are dwords 0, 5, 10, 15 of 64 bytes; the (d, s) dwords of Q8_1 blocks dwords 0, 9, 18, 27 of 128.
static __m256 q4_1_quad_scales(const block_q4_1* x, const block_q8_1* y) {
    const auto* yb = reinterpret_cast<const uint8_t*>(y);
    const __m512i ys = _mm512_permutex2var_epi32(_mm512_castps_si512(bytes_as_f32(yb)),
                                                 _mm512_setr_epi32(0, 0, 0, 0, 0, 9, 18, 27, 0, 0, 0, 0, 0, 0, 0, 0),
                                                 _mm512_castps_si512(bytes_as_f32(yb + 64)));
    const __m512i h = _mm512_mask_permutexvar_epi32(ys, 0x000F, _mm512_setr_epi32(0, 5, 10, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                                                    _mm512_castps_si512(bytes_as_f32(x)));
    return halves_product(_mm512_castsi512_si256(h));
}

// Q4_1 x Q8_1 for NR activation rows, the nibble unpacking shared by the rows; a row's
// arithmetic does not depend on NR. Rows of 4k + 2 blocks (SmolLM2's 576 = 18 blocks) end
// with one more block pair, its scales converted one by one.
struct Q4_1 {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        const auto* x = static_cast<const block_q4_1*>(w);
        const int64_t nb = n / QK8_1;
        const block_q8_1* y[NR];
        __m512 acc0[NR], acc1[NR];
        __m256 acc_m[NR];
        for (int r = 0; r < NR; r++) {
            y[r] = static_cast<const block_q8_1*>(a[r]);
            acc0[r] = acc1[r] = _mm512_setzero_ps();
            acc_m[r] = _mm256_setzero_ps();
        }
        int64_t ib = 0;
        for (; ib + 4 <= nb; ib += 4) {
            const __m512i w01 = unpack_nibble_pair(x[ib].qs, x[ib + 1].qs);
            const __m512i w23 = unpack_nibble_pair(x[ib + 2].qs, x[ib + 3].qs);
            for (int r = 0; r < NR; r++) {
                const block_q8_1* yr = y[r] + ib;
                const __m256 d = q4_1_quad_scales(x + ib, yr);
                acc_m[r] = _mm256_add_ps(acc_m[r], d);
                const __m512i dot01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w01, load_pair(yr[0].qs, yr[1].qs));
                const __m512i dot23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w23, load_pair(yr[2].qs, yr[3].qs));
                acc0[r] = _mm512_fmadd_ps(spread_pair(d, 0, 2), _mm512_cvtepi32_ps(dot01), acc0[r]);
                acc1[r] = _mm512_fmadd_ps(spread_pair(d, 4, 6), _mm512_cvtepi32_ps(dot23), acc1[r]);
            }
        }
        const bool pair = ib + 2 <= nb;
        const __m512i w_pair = pair ? unpack_nibble_pair(x[ib].qs, x[ib + 1].qs) : _mm512_setzero_si512();
        for (int r = 0; r < NR; r++) {
            alignas(32) float m[8];
            _mm256_store_ps(m, acc_m[r]);
            float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r])) + ((m[1] + m[3]) + (m[5] + m[7]));
            int64_t jb = ib;
            if (pair) {
                const block_q8_1* yr = y[r] + jb;
                const float d0 = _cvtsh_ss(x[jb].d) * _cvtsh_ss(yr[0].d), d1 = _cvtsh_ss(x[jb + 1].d) * _cvtsh_ss(yr[1].d);
                const __m512 scale = spread_pair(_mm256_setr_ps(d0, d1, 0, 0, 0, 0, 0, 0), 0, 1);
                const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w_pair, load_pair(yr[0].qs, yr[1].qs));
                sum += _mm512_reduce_add_ps(_mm512_mul_ps(scale, _mm512_cvtepi32_ps(dot))) +
                       (_cvtsh_ss(x[jb].m) * _cvtsh_ss(yr[0].s) + _cvtsh_ss(x[jb + 1].m) * _cvtsh_ss(yr[1].s));
                jb += 2;
            }
            if (jb < nb) sum += avx2::vec_dot_q4_1_q8_1((nb - jb) * QK8_1, x + jb, y[r] + jb);
            out[r] = sum;
        }
    }
};

// The fp16 d of 4 consecutive blocks as floats: 16-bit words idx[0..3] of the bytes at p,
// the bytes past 64 read under mask `tail` (a row may end right after its last block).
static __m128 quad_d(const void* p, __m512i idx, __mmask64 tail) {
    const auto* b = static_cast<const uint8_t*>(p);
    const __m512i words = _mm512_permutex2var_epi16(_mm512_loadu_si512(b), idx, _mm512_maskz_loadu_epi8(tail, b + 64));
    return _mm_cvtph_ps(_mm512_castsi512_si128(words));
}
static __m512i d_words(int stride) { return _mm512_setr_epi32(stride << 16, (3 * stride << 16) | 2 * stride, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); }

// Weights of two blocks (-128..127) as in load_pair's order.
static __m512i q8_0_pair_values(const block_q8_0& x0, const block_q8_0& x1) { return load_pair(x0.qs, x1.qs); }

// Q5_0: the nibbles, plus 16 where bit i of qh is set (element i's fifth bit), minus 16.
static __m512i q5_0_pair_values(const block_q5_0& x0, const block_q5_0& x1) {
    uint32_t h0, h1;
    std::memcpy(&h0, x0.qh, 4);
    std::memcpy(&h1, x1.qh, 4);
    const __m512i k16 = _mm512_set1_epi8(16), q = unpack_nibble_pair(x0.qs, x1.qs);
    return _mm512_sub_epi8(_mm512_mask_add_epi8(q, (static_cast<__mmask64>(h1) << 32) | h0, q, k16), k16);
}

// Q8_0 and Q5_0 weights times Q8_0 activations, NR rows: 4 blocks a step, their values,
// magnitudes, signs and scales computed once for all rows. vpdpbusd multiplies unsigned
// by signed bytes: |x| times y with x's sign moved onto y (activations are in
// [-127, 127], so negating them cannot overflow). Each row's arithmetic is the one-row
// kernel's (NR = 1), so batching never changes a result; a tail of fewer than 4 blocks
// goes to the AVX2 kernel.
template <class Block, int NR, class PairValues, class Tail>
static void q8_0_act_rows(int64_t n, const Block* x, const void* const* a, float* out, PairValues pair_values, Tail tail) {
    constexpr int bytes = sizeof(Block);
    const __m512i x_idx = d_words(bytes / 2), y_idx = d_words(sizeof(block_q8_0) / 2);
    const __mmask64 x_tail = (__mmask64{1} << (3 * bytes + 2 - 64)) - 1, y_tail = (__mmask64{1} << (3 * sizeof(block_q8_0) + 2 - 64)) - 1;
    static_assert(bytes % 2 == 0 && 3 * bytes + 2 > 64 && 3 * bytes + 2 < 128);
    const int64_t nb = n / QK8_0;
    const block_q8_0* y[NR];
    __m512 acc0[NR], acc1[NR];
    for (int r = 0; r < NR; r++) {
        y[r] = static_cast<const block_q8_0*>(a[r]);
        acc0[r] = acc1[r] = _mm512_setzero_ps();
    }
    int64_t ib = 0;
    for (; ib + 4 <= nb; ib += 4) {
        const __m512i q01 = pair_values(x[ib], x[ib + 1]), q23 = pair_values(x[ib + 2], x[ib + 3]);
        const __mmask64 neg01 = _mm512_movepi8_mask(q01), neg23 = _mm512_movepi8_mask(q23);
        const __m512i abs01 = _mm512_abs_epi8(q01), abs23 = _mm512_abs_epi8(q23);
        const __m128 dx = quad_d(x + ib, x_idx, x_tail);
        for (int r = 0; r < NR; r++) {
            const block_q8_0* yr = y[r] + ib;
            const __m256 d = _mm256_zextps128_ps256(_mm_mul_ps(dx, quad_d(yr, y_idx, y_tail)));
            const __m512i y01 = load_pair(yr[0].qs, yr[1].qs), y23 = load_pair(yr[2].qs, yr[3].qs);
            const __m512i dot01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), abs01, _mm512_mask_sub_epi8(y01, neg01, _mm512_setzero_si512(), y01));
            const __m512i dot23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), abs23, _mm512_mask_sub_epi8(y23, neg23, _mm512_setzero_si512(), y23));
            acc0[r] = _mm512_fmadd_ps(spread_pair(d, 0, 1), _mm512_cvtepi32_ps(dot01), acc0[r]);
            acc1[r] = _mm512_fmadd_ps(spread_pair(d, 2, 3), _mm512_cvtepi32_ps(dot23), acc1[r]);
        }
    }
    for (int r = 0; r < NR; r++) {
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r]));
        if (ib < nb) sum += tail((nb - ib) * QK8_0, x + ib, y[r] + ib);
        out[r] = sum;
    }
}

struct Q8_0 {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        q8_0_act_rows<block_q8_0, NR>(n, static_cast<const block_q8_0*>(w), a, out, q8_0_pair_values, avx2::vec_dot_q8_0_q8_0);
    }
};
struct Q5_0 {
    template <int NR>
    static void run(int64_t n, const void* w, const void* const* a, float* out) {
        q8_0_act_rows<block_q5_0, NR>(n, static_cast<const block_q5_0*>(w), a, out, q5_0_pair_values, avx2::vec_dot_q5_0_q8_0);
    }
};

}  // namespace lmx::kernels::avx512

namespace lmx::kernels {

void add_avx512_kernels(Table& t) {
    t.attend_f16 = avx512::attend_f16;
    t.swiglu = avx512::swiglu;
    t.softmax_row = avx512::softmax_row;
    t.exp_det = avx512::exp_det;
    t.attend_det_f16 = avx512::attend_det_f16;
    t.rows_times_matrix_f32 = avx512::rows_times_matrix_f32;
    t.gemm_f32_panels = avx512::gemm_f32_panels;
    t.dot_u4_f32 = avx512::dot_u4_f32;
    t.dot_u4_q8 = avx512::dot_u4_q8;
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot = vec_dot_of<avx512::Q4_1>;
    t.weight[static_cast<int>(DType::Q4_1)].vec_dot_rows = vec_dot_rows_of<avx512::Q4_1>;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot = vec_dot_of<avx512::Q8_0>;
    t.weight[static_cast<int>(DType::Q8_0)].vec_dot_rows = vec_dot_rows_of<avx512::Q8_0>;
    t.weight[static_cast<int>(DType::Q5_0)].vec_dot = vec_dot_of<avx512::Q5_0>;
    t.weight[static_cast<int>(DType::Q5_0)].vec_dot_rows = vec_dot_rows_of<avx512::Q5_0>;
    avx512::add_k_quant_kernels(t);
    t.packed[static_cast<int>(PackedLayout::q4k)] = avx512::packed_q4k;
    t.packed[static_cast<int>(PackedLayout::q8)] = avx512::packed_q8;
    t.packed[static_cast<int>(PackedLayout::q4_1)] = avx512::packed_q4_1;
    t.packed[static_cast<int>(PackedLayout::u4)] = avx512::packed_u4;
}

}  // namespace lmx::kernels
