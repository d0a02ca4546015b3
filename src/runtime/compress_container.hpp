#pragma once
// The lmx compressed-file container (docs/compression-format.md): a header naming the
// model, tokenizer and coding parameters the probabilities depend on, the original's
// length and CRC-32, a chunk table, then each chunk's arithmetic-coded bytes.
// Reading it needs no model, so the parser is fuzzed on its own.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmx {

constexpr char kContainerMagic[4] = {'L', 'M', 'X', 'Z'};
constexpr uint16_t kContainerVersion = 1;
// Revision of the deterministic arithmetic (kernels, det_math, frequency quantization):
// bumped whenever a change would alter the probabilities, so old files are refused
// with a clear message instead of decoding to garbage.
constexpr uint16_t kNumericsVersion = 1;
// The largest chunk size lmx compress takes and a container may state (1 MiB).
constexpr uint32_t kMaxChunkBytes = 1u << 20;

struct ChunkEntry {
    uint32_t original_bytes = 0;  // bytes this chunk decodes to (>= 1)
    uint32_t symbols = 0;         // coded symbols: tokens, escapes and escaped bytes count once each
    uint32_t coded_bytes = 0;     // arithmetic-coded payload bytes
};

struct CodingParams {
    uint32_t n_vocab = 0;
    uint32_t total_log2 = 24;         // every frequency table sums to 2^total_log2
    uint32_t escape_freq = 1u << 12;  // the escape symbol's frequency after a token
    uint32_t escape_run_freq = 1u << 23;  // ... and right after an escaped byte
    uint32_t chunk_bytes = 4096;      // the largest chunk, <= kMaxChunkBytes (each chunk is coded from an empty context)
    bool operator==(const CodingParams&) const = default;
};

struct ContainerHeader {
    uint16_t version = kContainerVersion;
    uint16_t numerics = kNumericsVersion;
    std::array<uint8_t, 32> model_sha256{};
    std::array<uint8_t, 32> tokenizer_sha256{};
    CodingParams params;
    uint64_t original_bytes = 0;
    uint32_t original_crc32 = 0;
    std::vector<ChunkEntry> chunks;
};

// The header and chunk table, followed by the payloads in chunk order.
std::string write_container(const ContainerHeader& h, const std::vector<std::string>& payloads);

struct ParsedContainer {
    ContainerHeader header;
    std::vector<std::string_view> payloads;  // views into the parsed bytes
};
// Checks the structure (magic, versions, parameter ranges, header CRC, chunk sizes adding
// up to the original length and the payloads to the file); throws lmx::Error naming the
// problem. Cheap: it never runs the model.
ParsedContainer parse_container(std::string_view bytes);

}  // namespace lmx
