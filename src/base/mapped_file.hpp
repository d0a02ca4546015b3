#pragma once
// A read-only view of a whole file, memory-mapped where the OS allows it, else read into
// memory; or bytes already in memory, adopted (e.g. a model a browser downloaded).
#include <cstddef>
#include <cstdint>
#include <string>

namespace lmx {

class MappedFile {
public:
    explicit MappedFile(const std::string& path);  // throws lmx::Error naming the path
    // Takes ownership of size bytes allocated with std::malloc (freed with std::free, also
    // when this throws); name stands in for the path in messages.
    MappedFile(std::string name, uint8_t* malloc_bytes, size_t size);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }
    // Gives the pages wholly inside [p, p + n) back to the OS (a copy of them lives
    // elsewhere now); a later read maps them from the file again. Only for a mapped file:
    // bytes read into memory are kept.
    void release(const void* p, size_t n) const;

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;  // munmap (true) or std::free (false) on destruction
};

}  // namespace lmx
