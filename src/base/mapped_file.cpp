#include "base/mapped_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"

namespace lmx {

namespace {

// Emscripten's mmap copies the file into the heap anyway, and some file systems cannot
// map at all (ENODEV): there, the file is read into memory.
#if defined(__EMSCRIPTEN__)
constexpr bool kTryMmap = false;
#else
constexpr bool kTryMmap = true;
#endif

uint8_t* read_all(int fd, const std::string& path, size_t size) {
    auto* p = static_cast<uint8_t*>(std::malloc(size));
    if (!p) fail("cannot read '", path, "': out of memory for ", size, " bytes");
    for (size_t done = 0; done < size;) {
        const ssize_t n = ::read(fd, p + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            std::free(p);
            fail("cannot read '", path, "': ", n == 0 ? "unexpected end of file" : std::strerror(e));
        }
        done += static_cast<size_t>(n);
    }
    return p;
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) fail("cannot open '", path, "': ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail("'", path, "' is not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0 && kTryMmap) {
        // MAP_POPULATE reads the file in at load time (fast from the page cache), so
        // the first forward pass does not stall on page faults.
#ifdef MAP_POPULATE
        const int flags = MAP_PRIVATE | MAP_POPULATE;
#else
        const int flags = MAP_PRIVATE;
#endif
        void* p = ::mmap(nullptr, size_, PROT_READ, flags, fd, 0);
        if (p != MAP_FAILED) {
            data_ = static_cast<const uint8_t*>(p);
            mapped_ = true;
        } else if (errno != ENODEV && errno != ENOTSUP) {
            int e = errno;
            ::close(fd);
            fail("cannot map '", path, "' (", size_, " bytes): ", std::strerror(e));
        }
    }
    if (size_ > 0 && !mapped_) {
        try {
            data_ = read_all(fd, path, size_);
        } catch (...) {
            ::close(fd);
            throw;
        }
    }
    ::close(fd);
}

MappedFile::MappedFile(std::string name, uint8_t* malloc_bytes, size_t size)
    : path_(std::move(name)), data_(malloc_bytes), size_(size) {}

MappedFile::~MappedFile() {
    if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
    else std::free(const_cast<uint8_t*>(data_));
}

void MappedFile::release(const void* p, size_t n) const {
#if defined(__EMSCRIPTEN__)  // never mapped there (kTryMmap)
    (void)p, (void)n;
#else
    const auto begin = reinterpret_cast<uintptr_t>(p), end = begin + n;
    if (!mapped_ || begin < reinterpret_cast<uintptr_t>(data_) || end > reinterpret_cast<uintptr_t>(data_) + size_) return;
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
    if (first < last) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
#endif
}

}  // namespace lmx
