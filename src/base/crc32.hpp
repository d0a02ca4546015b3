#pragma once
// CRC-32 (IEEE 802.3, the zlib/gzip/PNG polynomial), chainable: crc32(b, crc32(a)) == crc32(a+b).
#include <cstdint>
#include <string_view>

namespace lmx {

uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

}  // namespace lmx
