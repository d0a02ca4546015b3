// fp16 KV-cache kernels with F16C conversion, 8 lanes; the tail goes to scalar.
#include <immintrin.h>

#include "kernels/avx2.hpp"
#include "kernels/scalar.hpp"
#include "kernels/simd_avx2.hpp"

namespace lmx::kernels::avx2 {

static inline __m256 load_f16x8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

float dot_f16_f32(int64_t n, const uint16_t* x, const float* y) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(load_f16x8(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_f16x8(x + i), _mm256_loadu_ps(y + i), acc0);
    return hsum(_mm256_add_ps(acc0, acc1)) + kernels::dot_f16_f32(n - i, x + i, y + i);
}

void axpy_f16(int64_t n, float a, const uint16_t* x, float* y) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16x8(x + i), _mm256_loadu_ps(y + i)));
    kernels::axpy_f16(n - i, a, x + i, y + i);
}

}  // namespace lmx::kernels::avx2
