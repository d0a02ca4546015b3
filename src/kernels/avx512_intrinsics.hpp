#pragma once
// <immintrin.h> for the AVX-512 kernels. GCC 12's avx512fintrin.h self-initialises its
// "undefined" vectors and then warns about them where they are inlined (GCC bug 105593);
// the pragmas must precede the header and stay on for the including file, where the
// intrinsics are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
