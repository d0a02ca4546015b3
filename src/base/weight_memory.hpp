#pragma once
// Memory for weights that a forward pass streams through once per token. It comes from
// chunks of 32 MB (or a mapping of its own when larger) mapped anonymously, aligned to
// 2 MB and marked for transparent huge pages: reading a model's weights then walks one TLB
// entry per 2 MB instead of one per 4 KB page, which the CPU's TLB cannot hold for tens of
// megabytes (SmolLM2 decoding measured 15-30% faster). Small weights share a chunk, so no
// matrix rounds up to a whole huge page. Where the OS has no huge pages (WASM, others)
// the memory is an ordinary allocation.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace lmx {

// `bytes` of zeroed memory aligned to 64 bytes, freed when the last WeightMemory of its
// chunk goes (a chunk lives while any of its weights does). Throws lmx::Error when the
// memory cannot be had.
class WeightMemory {
public:
    WeightMemory() = default;
    explicit WeightMemory(size_t bytes);

    // Whether this build asks the OS for huge pages (Linux): elsewhere a copy of mapped
    // weights into WeightMemory gains nothing.
    static bool huge_pages();

    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    std::shared_ptr<void> chunk_;
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace lmx
