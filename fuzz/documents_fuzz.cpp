// libFuzzer entry for the document side of semantic search: any bytes must either
// parse as an index file or throw lmx::Error, and must come out of the HTML text
// extractor as text; a crash, a sanitizer report or a hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.hpp"
#include "runtime/html_text.hpp"
#include "runtime/vector_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    volatile size_t sink = lmx::html_to_text(std::string_view(reinterpret_cast<const char*>(data), size)).size();
    try {
        const lmx::VectorIndex ix = lmx::VectorIndex::parse(data, size, "fuzz.lmxdb");
        const std::vector<float> q(static_cast<size_t>(ix.dims()), 1.0f);
        sink = sink + ix.search(q.data(), 3).size();
    } catch (const lmx::Error&) {
    }
    (void)sink;
    return 0;
}
