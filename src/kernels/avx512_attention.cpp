// fp16 KV-cache kernels with 16-lane conversion; shorter tails go to AVX2/scalar.
#include "kernels/avx512_intrinsics.hpp"

#include "kernels/avx2.hpp"

namespace lmx::kernels::avx512 {

static inline __m512 load_f16x16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

float dot_f16_f32(int64_t n, const uint16_t* x, const float* y) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(load_f16x16(x + i), _mm512_loadu_ps(y + i), acc0);
        acc1 = _mm512_fmadd_ps(load_f16x16(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(load_f16x16(x + i), _mm512_loadu_ps(y + i), acc0);
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + avx2::dot_f16_f32(n - i, x + i, y + i);
}

void axpy_f16(int64_t n, float a, const uint16_t* x, float* y) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, load_f16x16(x + i), _mm512_loadu_ps(y + i)));
    avx2::axpy_f16(n - i, a, x + i, y + i);
}

}  // namespace lmx::kernels::avx512
