#pragma once
// One error type for the whole core: an exception carrying a message that names
// the problem and, where possible, what to do next. The C ABI turns it into codes.
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lmx {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// fail("tensor ", name, ": offset ", off, " past end of file") throws lmx::Error.
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream os;
    (os << ... << parts);
    throw Error(os.str());
}

// s in single quotes for an error message, cut to max_chars, control bytes as \xNN:
// names and keys read from a file stay printable and short.
std::string shown(std::string_view s, size_t max_chars = 96);

// Invariant checks that stay on in release builds; a failure is a bug in lmx.
[[noreturn]] void assert_failed(const char* expr, const char* file, int line);

}  // namespace lmx

#define LMX_ASSERT(x) ((x) ? (void)0 : ::lmx::assert_failed(#x, __FILE__, __LINE__))
