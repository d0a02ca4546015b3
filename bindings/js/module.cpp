// The WebAssembly module: the C ABI of lmx_capi (include/lmx/lmx.h), exported by the
// link flags in CMakeLists.txt. Nothing else lives here.
#include "lmx/lmx.h"
