/* Compiles lmx.h as C: the ABI header must not need a C++ compiler. */
#include "lmx/lmx.h"

int lmx_header_is_c(void) {
    lmx_generate_params p = lmx_generate_default_params();
    return p.max_tokens > 0 && lmx_last_error() != NULL;
}
