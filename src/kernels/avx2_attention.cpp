// Attention over the fp16 KV cache, 8 lanes (kernels/attend_online.hpp), and SwiGLU.
#include <immintrin.h>

#include "kernels/attend_online.hpp"
#include "kernels/avx2.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx2.hpp"

namespace lmx::kernels::avx2 {

struct Lanes8 {
    using vec = __m256;
    static constexpr int kLanes = 8;
    static vec load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static vec load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, vec x) { _mm256_storeu_ps(p, x); }
    static vec zero() { return _mm256_setzero_ps(); }
    static vec set1(float f) { return _mm256_set1_ps(f); }
    static vec sub(vec a, vec b) { return _mm256_sub_ps(a, b); }
    static vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
    static vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
    static float reduce_add(vec x) { return hsum(x); }
    static vec exp(vec x) { return exp_ps(x); }
};

void attend_f16(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                float* out) {
    attend_f16_simd<Lanes8>(group, hd, q, k, v, stride, n, scale, out);
}

void swiglu(int64_t n, const float* gate, const float* up, float* y) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    kernels::swiglu(n - i, gate + i, up + i, y + i);
}

}  // namespace lmx::kernels::avx2
