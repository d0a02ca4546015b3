// Attention over the fp16 KV cache, 16 lanes (kernels/attend_online.hpp), and SwiGLU.
#include "kernels/avx512_intrinsics.hpp"

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

}  // namespace lmx::kernels::avx512
