#pragma once
// What the CPU we run on can do, detected once at start-up. Kernel dispatch reads
// this; nothing in lmx is compiled for the build machine's CPU.
#include <string>

namespace lmx {

struct CpuFeatures {
    bool avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512bf16 = false;
    bool avx_vnni = false;
};

const CpuFeatures& cpu_features();  // detected on first call
std::string cpu_features_string();  // "avx2 fma f16c avx512f ..." for logs and inspect

}  // namespace lmx
