#pragma once
// Small AVX-512 helpers shared by the avx512_* translation units (include only from files
// compiled with the AVX-512 flags, after kernels/avx512_intrinsics.hpp).
#include <cstdint>

#include "kernels/simd_avx2.hpp"

namespace lmx::kernels::avx512 {

// 32 bytes at p0, then 32 at p1.
inline __m512i load_pair(const int8_t* p0, const int8_t* p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(avx2::load256(p0)), avx2::load256(p1), 1);
}

// The 32 nibbles of each of two 16-byte groups as [lo0 hi0 lo1 hi1]: the low nibbles of
// qs0's 16 bytes, then their high nibbles, then qs1's likewise.
inline __m512i unpack_nibble_pair(const uint8_t* qs0, const uint8_t* qs1) {
    const __m256i b0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0)));
    const __m256i b1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1)));
    const __m512i shifts = _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4);
    return _mm512_and_si512(_mm512_srlv_epi64(_mm512_inserti64x4(_mm512_castsi256_si512(b0), b1, 1), shifts),
                            _mm512_set1_epi8(0x0F));
}

}  // namespace lmx::kernels::avx512
