// libFuzzer entry: any bytes must either parse as an ONNX ModelProto (and as a lone
// TensorProto) or throw lmx::Error; a crash, a sanitizer report, a hang or an
// out-of-memory is a bug in the reader. What parses is written back and read again:
// the writer must accept everything the reader produces, and reproduce it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "base/error.hpp"
#include "formats/onnx.hpp"
#include "formats/onnx_summary.hpp"

namespace {

void touch(const lmx::onnx::Tensor& t) {
    // Read the first and last byte as a loader would: ASan checks the views.
    const auto b = t.bytes();
    volatile uint8_t sink = 0;
    if (!b.empty()) sink = static_cast<uint8_t>(b.front() + b.back());
    (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace onnx = lmx::onnx;
    try {
        onnx::Model m = onnx::Model::parse(data, size, "fuzz.onnx");  // no folder: external data is not opened
        for (const onnx::Tensor& t : m.graph.initializers) touch(t);
        (void)onnx::summarize(m);
        const std::vector<uint8_t> out = onnx::serialize(m);
        onnx::Model again = onnx::Model::parse(out.data(), out.size(), "rewritten.onnx");
        if (!again.same_as(m)) std::abort();  // the writer lost or changed something
    } catch (const lmx::Error&) {
    }
    try {
        onnx::Tensor t = onnx::parse_tensor(data, size);
        touch(t);
    } catch (const lmx::Error&) {
    }
    return 0;
}
