#include "runtime/compress_container.hpp"

#include <cstring>

#include "base/crc32.hpp"
#include "base/error.hpp"
#include "runtime/range_coder.hpp"

namespace lmx {

namespace {

constexpr size_t kChunkEntryBytes = 12;

void put(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Bounds-checked little-endian reads; running past the end means a truncated file.
struct Cursor {
    std::string_view in;
    size_t pos = 0;
    uint64_t get(int bytes) {
        need(static_cast<size_t>(bytes));
        uint64_t v = 0;
        for (int i = 0; i < bytes; i++) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos + static_cast<size_t>(i)])) << (8 * i);
        pos += static_cast<size_t>(bytes);
        return v;
    }
    void need(size_t n) const {
        if (in.size() - pos < n) fail("compressed file is truncated: the header needs more than its ", in.size(), " bytes");
    }
};

}  // namespace

std::string write_container(const ContainerHeader& h, const std::vector<std::string>& payloads) {
    std::string out(kContainerMagic, 4);
    put(out, h.version, 2);
    put(out, h.numerics, 2);
    out.append(reinterpret_cast<const char*>(h.model_sha256.data()), 32);
    out.append(reinterpret_cast<const char*>(h.tokenizer_sha256.data()), 32);
    const CodingParams& p = h.params;
    for (uint32_t v : {p.n_vocab, p.total_log2, p.escape_freq, p.escape_run_freq, p.chunk_bytes}) put(out, v, 4);
    put(out, h.original_bytes, 8);
    put(out, h.original_crc32, 4);
    put(out, h.chunks.size(), 4);
    for (const ChunkEntry& c : h.chunks) {
        put(out, c.original_bytes, 4);
        put(out, c.symbols, 4);
        put(out, c.coded_bytes, 4);
    }
    put(out, crc32(out), 4);
    for (const std::string& p : payloads) out += p;
    return out;
}

ParsedContainer parse_container(std::string_view bytes) {
    if (bytes.size() < 4 || std::memcmp(bytes.data(), kContainerMagic, 4) != 0)
        fail("not an lmx compressed file (it does not start with \"LMXZ\")");
    Cursor c{bytes, 4};
    ParsedContainer r;
    ContainerHeader& h = r.header;
    h.version = static_cast<uint16_t>(c.get(2));
    if (h.version != kContainerVersion)
        fail("compressed file has format version ", h.version, "; this lmx reads version ", kContainerVersion,
             " (use the lmx release that wrote it)");
    h.numerics = static_cast<uint16_t>(c.get(2));
    c.need(64);
    std::memcpy(h.model_sha256.data(), bytes.data() + c.pos, 32);
    std::memcpy(h.tokenizer_sha256.data(), bytes.data() + c.pos + 32, 32);
    c.pos += 64;
    CodingParams& p = h.params;
    p.n_vocab = static_cast<uint32_t>(c.get(4));
    p.total_log2 = static_cast<uint32_t>(c.get(4));
    p.escape_freq = static_cast<uint32_t>(c.get(4));
    p.escape_run_freq = static_cast<uint32_t>(c.get(4));
    p.chunk_bytes = static_cast<uint32_t>(c.get(4));
    h.original_bytes = c.get(8);
    h.original_crc32 = static_cast<uint32_t>(c.get(4));
    const uint64_t n_chunks = c.get(4);
    if (p.total_log2 < 8 || p.total_log2 > 24 || p.n_vocab == 0 ||  // 2^24 = kMaxCoderTotal
        p.n_vocab + 1 > (1ull << p.total_log2) / 2 || p.escape_freq == 0 || p.escape_run_freq == 0 ||
        p.escape_freq > (1ull << p.total_log2) / 2 || p.escape_run_freq > (1ull << p.total_log2) / 2 || p.chunk_bytes == 0 ||
        p.chunk_bytes > kMaxChunkBytes)
        fail("compressed file is corrupt: coding parameters out of range (vocab ", p.n_vocab, ", total 2^", p.total_log2,
             ", escape ", p.escape_freq, "/", p.escape_run_freq, ", chunk ", p.chunk_bytes, ")");
    if (n_chunks > h.original_bytes || n_chunks > (bytes.size() - c.pos) / kChunkEntryBytes)
        fail("compressed file is corrupt or truncated: its chunk table (", n_chunks, " chunks) does not fit");
    h.chunks.resize(static_cast<size_t>(n_chunks));
    uint64_t total_original = 0, total_coded = 0;
    for (ChunkEntry& e : h.chunks) {
        e.original_bytes = static_cast<uint32_t>(c.get(4));
        e.symbols = static_cast<uint32_t>(c.get(4));
        e.coded_bytes = static_cast<uint32_t>(c.get(4));
        if (e.original_bytes == 0 || e.original_bytes > p.chunk_bytes || e.symbols == 0 || e.symbols > 2ull * e.original_bytes)
            fail("compressed file is corrupt: a chunk of ", e.original_bytes, " bytes and ", e.symbols, " symbols");
        total_original += e.original_bytes;
        total_coded += e.coded_bytes;
    }
    const size_t header_end = c.pos;
    const uint32_t stored_crc = static_cast<uint32_t>(c.get(4));
    if (crc32(bytes.substr(0, header_end)) != stored_crc) fail("compressed file is corrupt: header checksum mismatch");
    if (total_original != h.original_bytes)
        fail("compressed file is corrupt: chunks add up to ", total_original, " bytes, the header says ", h.original_bytes);
    if (total_coded != bytes.size() - c.pos)
        fail("compressed file is ", total_coded > bytes.size() - c.pos ? "truncated" : "corrupt", ": its chunks need ",
             total_coded, " payload bytes, it has ", bytes.size() - c.pos);
    for (const ChunkEntry& e : h.chunks) {
        r.payloads.push_back(bytes.substr(c.pos, e.coded_bytes));
        c.pos += e.coded_bytes;
    }
    return r;
}

}  // namespace lmx
