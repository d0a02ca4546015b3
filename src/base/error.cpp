#include "base/error.hpp"

namespace lmx {

void assert_failed(const char* expr, const char* file, int line) {
    fail("internal error: assertion '", expr, "' failed at ", file, ":", line,
         " (this is a bug in lmx; please report it)");
}

}  // namespace lmx
