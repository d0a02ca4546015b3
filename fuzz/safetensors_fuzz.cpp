// libFuzzer entry: any bytes must either parse as safetensors or throw lmx::Error; a
// crash, a sanitizer report, a hang or an out-of-memory is a bug in the reader.
#include <cstddef>
#include <cstdint>

#include "base/error.hpp"
#include "formats/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        lmx::safetensors::File f = lmx::safetensors::File::parse(data, size, "fuzz.safetensors");
        // Touch the first and last byte of each tensor as a loader would: ASan checks
        // that the views stay inside the input.
        volatile uint8_t sink = 0;
        for (const lmx::safetensors::TensorInfo& t : f.tensors()) {
            if (t.nbytes) sink = static_cast<uint8_t>(t.data[0] + t.data[t.nbytes - 1]);
            try {
                (void)t.lmx_dtype();
            } catch (const lmx::Error&) {
            }
        }
        (void)sink;
    } catch (const lmx::Error&) {
    }
    return 0;
}
