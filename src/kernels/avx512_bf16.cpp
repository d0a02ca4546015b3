// The dense layers' GEMM in bf16 (contract in kernels.hpp) on AVX-512 BF16: vdpbf16ps adds
// two products a lane, 32 multiply-adds an instruction against vfmadd231ps's 16.
#include "kernels/avx512_intrinsics.hpp"

#include "kernels/avx512_panels.hpp"
#include "kernels/isa_tables.hpp"

namespace lmx::kernels::avx512 {

namespace {

inline __m512bh pairs_bh(__m512i v) { return reinterpret_cast<__m512bh&>(v); }

// gemm_panels's steps in bf16: a pair of values of a row of a (one uint32) against 16
// pairs of weights.
struct Bf16Step {
    static __m512bh load(const uint32_t* w) { return pairs_bh(_mm512_loadu_si512(w)); }
    static __m512bh broadcast(uint32_t a) { return pairs_bh(_mm512_set1_epi32(static_cast<int>(a))); }
    static __m512 madd(__m512 acc, __m512bh a, __m512bh w) { return _mm512_dpbf16_ps(acc, a, w); }
};

void gemm_bf16_panels(int64_t m, int64_t k2, int64_t k0, int64_t k1, const uint32_t* a, int64_t lda, const uint32_t* panels, int64_t cols,
                      float* y, int64_t ldy, const float* bias, bool gelu) {
    gemm_panels<Bf16Step>(m, k2, k0, k1, a, lda, panels, cols, y, ldy, bias, gelu);
}

// 32 values a step by vcvtne2ps2bf16 (nearest even, as fp32_to_bf16), the tail masked.
void to_bf16_pairs(int64_t k, const float* x, uint32_t* pairs) {
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512(pairs + i / 2, reinterpret_cast<const __m512i&>(h));
    }
    const auto lanes = [](int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1); };
    for (; i < k; i += 16) {
        const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(lanes(k - i), x + i));
        // whole pairs: an odd k's last high half is a masked-out lane's 0
        _mm256_mask_storeu_epi16(reinterpret_cast<uint16_t*>(pairs) + i, lanes((k - i + 1) & ~int64_t{1}), reinterpret_cast<const __m256i&>(h));
    }
}

}  // namespace

}  // namespace lmx::kernels::avx512

namespace lmx::kernels {

void add_avx512_bf16_kernels(Table& t) {
    t.gemm_bf16_panels = avx512::gemm_bf16_panels;
    t.to_bf16_pairs = avx512::to_bf16_pairs;
}

}  // namespace lmx::kernels
