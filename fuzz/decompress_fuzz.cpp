// libFuzzer entry for lmx compressed files: any bytes must either parse or throw
// lmx::Error. Parsed files then run through the arithmetic decoder with a fixed
// frequency table standing in for the model (the model itself is not run: a huge
// symbol count would make every input slow), so garbage payloads are decoded too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "runtime/compress_container.hpp"
#include "runtime/range_coder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const lmx::ParsedContainer c = lmx::parse_container(std::string_view(reinterpret_cast<const char*>(data), size));
        // a skewed table with a frequency-1 symbol, summing to the file's total
        const uint32_t total = 1u << c.header.params.total_log2;
        const std::vector<uint32_t> cum = {0, 1, total / 2, total - 3, total};
        for (size_t i = 0; i < c.payloads.size(); i++) {
            lmx::ArithmeticDecoder dec(c.payloads[i]);
            const uint32_t n = std::min<uint32_t>(c.header.chunks[i].symbols, 4096);
            for (uint32_t k = 0; k < n; k++) {
                const uint32_t t = dec.target(total);
                if (t >= total) __builtin_trap();  // the decoder's invariant broke
                const size_t s = static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), t) - cum.begin()) - 1;
                dec.consume(cum[s], cum[s + 1] - cum[s], total);
            }
        }
    } catch (const lmx::Error&) {
    }
    return 0;
}
