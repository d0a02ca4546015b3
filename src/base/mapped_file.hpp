#pragma once
// A read-only view of a whole file, memory-mapped where the OS allows it.
#include <cstddef>
#include <cstdint>
#include <string>

namespace lmx {

class MappedFile {
public:
    explicit MappedFile(const std::string& path);  // throws lmx::Error naming the path
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace lmx
