#pragma once
// SHA-256 (FIPS 180-4), streaming. Used to verify model files and to name them.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace lmx {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n);
    std::array<uint8_t, 32> finish();
    std::string finish_hex();

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

std::string sha256_hex(const void* data, size_t n);

}  // namespace lmx
