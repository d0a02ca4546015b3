// libFuzzer entry: any bytes must either parse or throw lmx::Error; a crash, a
// sanitizer report, a hang or an out-of-memory is a bug in the reader.
#include <cstddef>
#include <cstdint>

#include "base/error.hpp"
#include "formats/gguf.hpp"

namespace {

template <class F>
void ok_or_error(F&& f) {
    try {
        f();
    } catch (const lmx::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        lmx::gguf::File f = lmx::gguf::File::parse(data, size, "fuzz.gguf");
        // Read the first and last byte of each tensor as a loader would: ASan checks
        // that the data pointers and sizes stay inside the input.
        volatile uint8_t sink = 0;
        for (const lmx::gguf::TensorInfo& t : f.tensors()) sink = static_cast<uint8_t>(t.data[0] + t.data[t.nbytes - 1]);
        // Every getter on every key: mismatched types must throw, not misbehave.
        for (const auto& kv : f.metadata()) {
            const std::string& key = kv.first;
            ok_or_error([&] { f.get_string(key); });
            ok_or_error([&] { f.get_int(key); });
            ok_or_error([&] { f.get_float(key); });
            ok_or_error([&] { f.get_bool(key); });
            ok_or_error([&] { f.get_string_array(key); });
            ok_or_error([&] { f.get_int_array(key); });
            ok_or_error([&] { f.get_float_array(key); });
        }
        (void)sink;
    } catch (const lmx::Error&) {
    }
    return 0;
}
