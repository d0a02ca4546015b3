// Attention over the fp16 KV cache, 16 lanes (kernels/attend_online.hpp), SwiGLU and the
// softmax of a row of scores.
#include "kernels/avx512_intrinsics.hpp"

#include <cmath>

#include "kernels/attend_online.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx512.hpp"

namespace lmx::kernels::avx512 {

struct Lanes16 {
    using vec = __m512;
    static constexpr int kLanes = 16;
    static vec load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static vec load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, vec x) { _mm512_storeu_ps(p, x); }
    static vec zero() { return _mm512_setzero_ps(); }
    static vec set1(float f) { return _mm512_set1_ps(f); }
    static vec sub(vec a, vec b) { return _mm512_sub_ps(a, b); }
    static vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
    static vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
    static float reduce_add(vec x) { return _mm512_reduce_add_ps(x); }
    static vec exp(vec x) { return exp_ps(x); }
};

void attend_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* out) {
    attend_f16_simd<Lanes16>(group, hd, q, k, v, stride, n, scale, out);
}

void swiglu(int64_t n, const float* gate, const float* up, float* y) {
    const __m512 one = _mm512_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 g = _mm512_loadu_ps(gate + i);
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_storeu_ps(y + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
    kernels::swiglu(n - i, gate + i, up + i, y + i);
}

// Sixteen lanes with a masked tail (−inf lanes for the maximum, 0 for the sum).
void softmax_row(int64_t n, float* x, float scale) {
    const auto lanes = [&](int64_t i) { return static_cast<__mmask16>(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1); };
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), lanes(i), x + i));
    const __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), s = _mm512_set1_ps(scale);
    __m512 sum = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        const __m512 e = exp_ps(_mm512_mul_ps(s, _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes(i), x + i), shift)));
        sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(lanes(i), e));
        _mm512_mask_storeu_ps(x + i, lanes(i), e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int64_t i = 0; i < n; i += 16) _mm512_mask_storeu_ps(x + i, lanes(i), _mm512_mul_ps(inv, _mm512_maskz_loadu_ps(lanes(i), x + i)));
}

}  // namespace lmx::kernels::avx512
