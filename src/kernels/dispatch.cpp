#include <cstdlib>
#include <string>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "kernels/isa_tables.hpp"
#include "kernels/scalar.hpp"

namespace lmx::kernels {

std::string_view isa_name(Isa isa) {
    switch (isa) {
        case Isa::scalar: return "scalar";
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
        case Isa::wasm_simd128: return "wasm_simd128";
    }
    return "unknown";
}

// LMX_KERNELS_X86 is set by CMake when the avx2_/avx512_ translation units are built,
// LMX_KERNELS_WASM for the wasm_ ones (a WASM engine without SIMD128 rejects the whole
// module, so there is nothing to detect at run time).
static constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx512, Isa::wasm_simd128};

static bool runs(Isa isa) {
    if (isa == Isa::scalar) return true;
#if LMX_KERNELS_X86
    const CpuFeatures& f = cpu_features();
    const bool avx2 = f.avx2 && f.fma && f.f16c;
    if (isa == Isa::avx2) return avx2;
    if (isa == Isa::avx512) return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
#endif
#if LMX_KERNELS_WASM
    if (isa == Isa::wasm_simd128) return true;
#endif
    return false;
}

static Table build(Isa isa) {
    Table t;
    t.isa = isa;
    add_scalar_kernels(t);
#if LMX_KERNELS_X86
    if (isa == Isa::avx2 || isa == Isa::avx512) add_avx2_kernels(t);
    if (isa == Isa::avx512) add_avx512_kernels(t);
    if (isa == Isa::avx512 && cpu_features().avx512bf16) add_avx512_bf16_kernels(t);
#endif
#if LMX_KERNELS_WASM
    if (isa == Isa::wasm_simd128) add_wasm_kernels(t);
#endif
    return t;
}

// The ISA's quantizers (byte-identical on every ISA) with the scalar dot products, single
// rows only, and attend_det_f16 alone (no online softmax, whose rescaling depends on the
// block size), then the exact SIMD versions this ISA has. The packed GEMMs stay: the
// matmul op takes them where PackedWeights::equals_row_dot says their bits are the row dot's.
static Table build_deterministic(Isa isa) {
    Table t = build(isa);
    Table scalar;
    add_scalar_kernels(scalar);
    for (int i = 0; i < kMaxDType; i++) t.weight[i] = scalar.weight[i];
    t.attend_f16 = nullptr;
    t.rows_times_matrix_f32 = scalar.rows_times_matrix_f32;  // SIMD sums in another order
    t.gemm_f32_panels = scalar.gemm_f32_panels;
    t.softmax_row = scalar.softmax_row;
    t.gemm_bf16_panels = nullptr;  // rounds to bf16: not the f32 bits
    t.dot_u4_f32 = scalar.dot_u4_f32;
    t.dot_u4_q8 = scalar.dot_u4_q8;
#if LMX_KERNELS_X86
    if (isa == Isa::avx2 || isa == Isa::avx512) add_avx2_deterministic_kernels(t);
    if (isa == Isa::avx512) add_avx512_deterministic_kernels(t);
#endif
#if LMX_KERNELS_WASM
    if (isa == Isa::wasm_simd128) add_wasm_deterministic_kernels(t);
#endif
    return t;
}

std::vector<Isa> available_isas() {
    std::vector<Isa> isas;
    for (Isa isa : kAllIsas)
        if (runs(isa)) isas.push_back(isa);
    return isas;
}

const Table& table(Isa isa) {
    if (!runs(isa))
        fail("this CPU cannot run the ", isa_name(isa), " kernels (it has: ", cpu_features_string(),
             "); choose one of the ISAs it runs, e.g. LMX_ISA=scalar");
    // Building a table only stores function pointers; runs() above guards their use.
    static const Table tables[] = {build(Isa::scalar), build(Isa::avx2), build(Isa::avx512), build(Isa::wasm_simd128)};
    return tables[static_cast<int>(isa)];
}

const Table& deterministic_table(Isa isa) {
    table(isa);  // fails when the CPU lacks the ISA
    static const Table tables[] = {build_deterministic(Isa::scalar), build_deterministic(Isa::avx2),
                                   build_deterministic(Isa::avx512), build_deterministic(Isa::wasm_simd128)};
    return tables[static_cast<int>(isa)];
}

const Table& best_table() {
    if (const char* env = std::getenv("LMX_ISA"); env && *env) {
        for (Isa isa : kAllIsas)
            if (isa_name(isa) == env) return table(isa);
        fail("LMX_ISA=", env, " is not an ISA lmx knows; use scalar, avx2, avx512 or wasm_simd128");
    }
    return table(available_isas().back());
}

}  // namespace lmx::kernels
