#pragma once
// The SIMD attend_f16 (kernels.hpp) that the AVX2 and AVX-512 translation units share.
// Positions go in blocks of V::kLanes: the block's scores for every head of the group
// (each key row converted once), then per head one rescale of the running sum and
// output when the block raises the maximum (not one per position), the block's
// exponentials in one vector, then its value rows, each converted once for the group.
// V: vec, kLanes, load_f16, load, store, zero, set1, sub, mul, fmadd, reduce_add, exp.
#include <cmath>
#include <cstdint>

#include "kernels/kernels.hpp"
#include "kernels/scalar.hpp"

namespace lmx::kernels {

template <class V, int NV>  // a head is NV vectors: hd = NV · V::kLanes
void attend_online(int group, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n, float scale,
                   float* out) {
    constexpr int W = V::kLanes, hd = NV * W;
    alignas(64) float p[kMaxAttendGroup][W];  // the block's scores, then their exponentials
    float m[kMaxAttendGroup], l[kMaxAttendGroup], block_max[kMaxAttendGroup];
    for (int g = 0; g < group; g++) {
        m[g] = -INFINITY, l[g] = 0;
        for (int c = 0; c < NV; c++) V::store(out + g * hd + c * W, V::zero());
    }
    typename V::vec row[NV];
    for (int64_t j0 = 0; j0 < n; j0 += W) {
        const int nb = n - j0 < W ? static_cast<int>(n - j0) : W;
        for (int g = 0; g < group; g++) block_max[g] = -INFINITY;
        for (int jj = 0; jj < nb; jj++) {
            const uint16_t* kr = k + (j0 + jj) * stride;
            for (int c = 0; c < NV; c++) row[c] = V::load_f16(kr + c * W);
            for (int g = 0; g < group; g++) {
                const float* qg = q + g * hd;
                typename V::vec acc = V::mul(row[0], V::load(qg));
                for (int c = 1; c < NV; c++) acc = V::fmadd(row[c], V::load(qg + c * W), acc);
                const float s = V::reduce_add(acc) * scale;
                p[g][jj] = s;
                block_max[g] = s > block_max[g] ? s : block_max[g];
            }
        }
        for (int g = 0; g < group; g++) {
            float* o = out + g * hd;
            if (block_max[g] > m[g]) {
                const float f = std::exp(m[g] - block_max[g]);
                l[g] *= f;
                for (int c = 0; c < NV; c++) V::store(o + c * W, V::mul(V::load(o + c * W), V::set1(f)));
                m[g] = block_max[g];
            }
            for (int jj = nb; jj < W; jj++) p[g][jj] = -INFINITY;  // exp gives 0
            const typename V::vec e = V::exp(V::sub(V::load(p[g]), V::set1(m[g])));
            l[g] += V::reduce_add(e);
            V::store(p[g], e);
        }
        for (int jj = 0; jj < nb; jj++) {
            const uint16_t* vr = v + (j0 + jj) * stride;
            for (int c = 0; c < NV; c++) row[c] = V::load_f16(vr + c * W);
            for (int g = 0; g < group; g++) {
                float* o = out + g * hd;
                const typename V::vec w = V::set1(p[g][jj]);
                for (int c = 0; c < NV; c++) V::store(o + c * W, V::fmadd(w, row[c], V::load(o + c * W)));
            }
        }
    }
    for (int g = 0; g < group; g++) {
        const typename V::vec inv = V::set1(1.0f / l[g]);
        for (int c = 0; c < NV; c++) V::store(out + g * hd + c * W, V::mul(V::load(out + g * hd + c * W), inv));
    }
}

// attend_f16 for the head sizes of the models we run (64, 128, 256); others take the
// scalar reference.
template <class V>
void attend_f16_simd(int group, int hd, const float* q, const uint16_t* k, const uint16_t* v, int64_t stride, int64_t n,
                     float scale, float* out) {
    switch (hd) {
        case 64: return attend_online<V, 64 / V::kLanes>(group, q, k, v, stride, n, scale, out);
        case 128: return attend_online<V, 128 / V::kLanes>(group, q, k, v, stride, n, scale, out);
        case 256: return attend_online<V, 256 / V::kLanes>(group, q, k, v, stride, n, scale, out);
        default: return attend_f16(group, hd, q, k, v, stride, n, scale, out);
    }
}

}  // namespace lmx::kernels
