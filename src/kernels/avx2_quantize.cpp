// AVX2 activation quantizers: byte-identical to the scalar ones (same scale formulas,
// products x * id without FMA, round to nearest even).
#include "kernels/avx2.hpp"
#include "kernels/simd_avx2.hpp"
#include "tensor/quant_blocks.hpp"

namespace lmx::kernels::avx2 {

static float max_abs(const __m256* v, int count) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_andnot_ps(sign, v[0]);
    for (int k = 1; k < count; k++) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static __m256i round_to_i32(__m256 v, __m256 scale) {
    return _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v, scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Four vectors of 8 int32 in [-127, 127] -> 32 int8 in element order.
static __m256i pack_i8(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));  // undo the per-lane packing
}

void quantize_row_f16(const float* x, void* y, int64_t n) {
    auto* out = static_cast<uint8_t*>(y);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) {
        const uint16_t h = float_to_half(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
    }
}

// One 32-element block: returns the scale d and writes the quants; *sum gets sum(qs).
static float quantize_block32(const float* x, int8_t* qs, int* sum) {
    __m256 v[4];
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
    const float amax = max_abs(v, 4);
    const float d = amax / 127;
    const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    __m256i q[4];
    for (int k = 0; k < 4; k++) q[k] = round_to_i32(v[k], id);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), pack_i8(q[0], q[1], q[2], q[3]));
    *sum = hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    return d;
}

void quantize_row_q8_0(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<block_q8_0*>(vy);
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sum;
        y[i].d = float_to_half(quantize_block32(x + i * QK8_0, y[i].qs, &sum));
    }
}

void quantize_row_q8_1(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<block_q8_1*>(vy);
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int sum;
        const float d = quantize_block32(x + i * QK8_1, y[i].qs, &sum);
        y[i].d = float_to_half(d);
        y[i].s = float_to_half(static_cast<float>(sum) * d);
    }
}

void quantize_row_q8_K(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<block_q8_K*>(vy);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 v[QK_K / 8];
        for (int k = 0; k < QK_K / 8; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        const float amax = max_abs(v, QK_K / 8);
        if (amax == 0.0f) {
            std::memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        // The scale's sign is that of the first element of largest magnitude (as in the scalar ref).
        float max = 0;
        const __m256 sign = _mm256_set1_ps(-0.0f), vmax = _mm256_set1_ps(amax);
        for (int k = 0; k < QK_K / 8; k++) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v[k]), vmax, _CMP_EQ_OQ));
            if (hit) { max = x[8 * k + __builtin_ctz(static_cast<unsigned>(hit))]; break; }
        }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i limit = _mm256_set1_epi32(127), ones8 = _mm256_set1_epi8(1);
        for (int k = 0; k < QK_K / 32; k++) {
            __m256i q[4];
            for (int j = 0; j < 4; j++) q[j] = _mm256_min_epi32(round_to_i32(v[4 * k + j], vs), limit);
            const __m256i packed = pack_i8(q[0], q[1], q[2], q[3]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + 32 * k), packed);
            // two sums of 16: 8 int32 per 128-bit lane -> one per lane
            __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, packed), _mm256_set1_epi16(1));
            s = _mm256_hadd_epi32(s, s);
            s = _mm256_hadd_epi32(s, s);
            y[i].bsums[2 * k] = static_cast<int16_t>(_mm256_extract_epi32(s, 0));
            y[i].bsums[2 * k + 1] = static_cast<int16_t>(_mm256_extract_epi32(s, 4));
        }
        y[i].d = 1 / iscale;
    }
}

}  // namespace lmx::kernels::avx2
