#include "base/weight_memory.hpp"

#include <mutex>
#include <new>

#include "base/error.hpp"

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#define LMX_HUGE_PAGES 1
#endif

namespace lmx {

namespace {

constexpr size_t kChunk = size_t{32} << 20, kAlign = 64;
#if LMX_HUGE_PAGES
constexpr size_t kHuge = size_t{2} << 20;
#endif

struct Chunk {
    uint8_t* base = nullptr;  // the 2 MB aligned start
    size_t size = 0;
    void* mapping = nullptr;  // what munmap / delete[] takes
    size_t mapped = 0;

    explicit Chunk(size_t bytes) {
#if LMX_HUGE_PAGES
        size = (bytes + kHuge - 1) / kHuge * kHuge;
        mapped = size + kHuge;  // room to align the start
        mapping = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapping == MAP_FAILED) fail("out of memory: cannot map ", bytes, " bytes for weights");
        base = static_cast<uint8_t*>(mapping) + (-reinterpret_cast<uintptr_t>(mapping) & (kHuge - 1));
        ::madvise(base, size, MADV_HUGEPAGE);  // a hint: without it (or THP off) the pages are 4 KB
#else
        size = bytes;
        try {
            mapping = new uint8_t[bytes + kAlign]();
        } catch (const std::bad_alloc&) {
            fail("out of memory: cannot allocate ", bytes, " bytes for weights");
        }
        base = static_cast<uint8_t*>(mapping) + (-reinterpret_cast<uintptr_t>(mapping) & (kAlign - 1));
#endif
    }
    ~Chunk() {
#if LMX_HUGE_PAGES
        ::munmap(mapping, mapped);
#else
        delete[] static_cast<uint8_t*>(mapping);
#endif
    }
    Chunk(const Chunk&) = delete;
    Chunk& operator=(const Chunk&) = delete;
};

// The chunk small weights are being placed in (unmapped once no weight in it is left) and
// how much of it is used.
std::mutex g_mutex;
std::weak_ptr<Chunk> g_open;
size_t g_used = 0;

}  // namespace

WeightMemory::WeightMemory(size_t bytes) : size_(bytes) {
    const size_t need = (bytes + kAlign - 1) / kAlign * kAlign;
    if (need > kChunk / 4) {  // a mapping of its own
        auto c = std::make_shared<Chunk>(need);
        data_ = c->base;
        chunk_ = std::move(c);
        return;
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    std::shared_ptr<Chunk> open = g_open.lock();
    if (!open || g_used + need > open->size) {
        open = std::make_shared<Chunk>(kChunk);
        g_open = open;
        g_used = 0;
    }
    data_ = open->base + g_used;
    g_used += need;
    chunk_ = std::move(open);
}

bool WeightMemory::huge_pages() {
#if LMX_HUGE_PAGES
    return true;
#else
    return false;
#endif
}

}  // namespace lmx
