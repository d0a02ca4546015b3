// lmx compression end to end with the default model: inputs of every kind come back
// byte for byte; prose compresses far below 8 bits per byte; a container made with other
// parameters, a corrupted payload or a truncated file is refused, never decoded wrongly.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/error.hpp"
#include "model_fixture.hpp"
#include "runtime/compressor.hpp"

using namespace lmx;

namespace {

const Compressor& compressor() {
    static const Compressor c(default_model());
    return c;
}

CompressOptions small_chunks(uint32_t chunk_bytes) {
    CompressOptions o;
    o.chunk_bytes = chunk_bytes;
    o.workers = 2;
    o.threads_per_worker = 1;
    return o;
}

std::string seq_1_to(int n) {
    std::string s;
    for (int i = 1; i <= n; i++) s += std::to_string(i) += '\n';
    return s;
}

const char* kProse =
    "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: "
    "once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations "
    "in it, 'and what is the use of a book,' thought Alice 'without pictures or conversations?'\n";

std::string random_bytes(size_t n) {
    std::mt19937 rng(3);
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
}

void expect_round_trip(const std::string& data, const CompressOptions& o, const char* what) {
    const std::string packed = compressor().compress(data, o);
    EXPECT_EQ(compressor().decompress(packed, o), data) << what;
}

TEST(Compress, RoundTripsEveryKindOfInput) {
    REQUIRE_DEFAULT_MODEL();
    const CompressOptions o = small_chunks(256);
    expect_round_trip("", o, "empty");
    expect_round_trip("a", o, "one byte");
    expect_round_trip(std::string(1, '\0'), o, "one NUL byte (no token for it)");
    expect_round_trip(random_bytes(100), o, "random binary");
    expect_round_trip("caf\xC3\xA9 \xFF\xFE half \xE2\x82 \xC3 end\x80", o, "invalid UTF-8");
    expect_round_trip("<|im_start|>user\nhi<|im_end|>\n\t\r\n  \x01\x02 \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87", o,
                      "special-token text, control bytes, emoji, CJK");
    // the whole of `seq 1 1000` (3893 bytes) round-trips through the CLI in the report; here
    // its first 400 bytes, cut into 4 chunks
    expect_round_trip(seq_1_to(1000).substr(0, 400), small_chunks(100), "seq 1 1000 (first 400 bytes)");
    expect_round_trip(std::string(kProse) + kProse, small_chunks(200), "prose in several chunks, cut mid-word");
}

// Decompression runs several chunks in lockstep per worker, refilling a finished chunk's
// slot: many short chunks of different token counts exercise the refills, with one worker
// and with two.
TEST(Compress, ManyChunksDecodeInLockstep) {
    REQUIRE_DEFAULT_MODEL();
    const std::string data = seq_1_to(300).substr(0, 500) + kProse;
    CompressOptions o = small_chunks(16);
    const std::string packed = compressor().compress(data, o);
    ASSERT_GT(parse_container(packed).payloads.size(), 40u);
    EXPECT_EQ(compressor().decompress(packed, o), data) << "two workers";
    o.workers = 1;
    EXPECT_EQ(compressor().decompress(packed, o), data) << "one worker";
}

// A chunk of more items than max_positions (here 24, standing in for the model's context)
// is cut in two until each fits; the pieces decode back in order.
TEST(Compress, ChunksBeyondTheContextAreCut) {
    REQUIRE_DEFAULT_MODEL();
    CompressOptions o = small_chunks(4096);
    ASSERT_EQ(parse_container(compressor().compress(kProse, o)).header.chunks.size(), 1u);
    o.max_positions = 24;
    const std::string packed = compressor().compress(kProse, o);
    const ParsedContainer c = parse_container(packed);
    EXPECT_GE(c.header.chunks.size(), 3u);
    for (const ChunkEntry& e : c.header.chunks) EXPECT_LE(e.symbols, 24u) << "prose: one symbol per item";
    EXPECT_EQ(compressor().decompress(packed, o), kProse);
    expect_round_trip(std::string(kProse) + random_bytes(40), o, "prose and escaped bytes, cut to 24 items a chunk");
}

TEST(Compress, ProseCompressesWellAndTheSameWithEveryWorkerCount) {
    REQUIRE_DEFAULT_MODEL();
    CompressOptions one = small_chunks(4096), two = small_chunks(4096);
    one.workers = 1;
    one.threads_per_worker = 2;
    const std::string packed = compressor().compress(kProse, one);
    EXPECT_EQ(packed, compressor().compress(kProse, two));
    const double payload_bits = 8.0 * static_cast<double>(parse_container(packed).payloads[0].size());
    EXPECT_LT(payload_bits / static_cast<double>(std::string(kProse).size()), 2.0) << "bits per byte of famous prose";
}

TEST(Compress, RefusesOtherModelsCorruptionAndTruncation) {
    REQUIRE_DEFAULT_MODEL();
    const std::string data = "The quick brown fox jumps over the lazy dog.";
    const std::string packed = compressor().compress(data, small_chunks(4096));
    auto error_of = [](const std::string& bytes) {
        try {
            compressor().decompress(bytes, small_chunks(4096));
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    std::string other_model = packed;
    other_model[8] = static_cast<char>(other_model[8] ^ 1);  // first byte of the model SHA-256 (header CRC fixed below)
    EXPECT_NE(error_of(other_model).find("corrupt"), std::string::npos);
    ContainerHeader h = parse_container(packed).header;
    h.model_sha256[0] ^= 1;
    EXPECT_NE(error_of(write_container(h, {std::string(parse_container(packed).payloads[0])})).find("another model"),
              std::string::npos);
    h = parse_container(packed).header;
    h.numerics = kNumericsVersion + 1;
    EXPECT_NE(error_of(write_container(h, {std::string(parse_container(packed).payloads[0])})).find("numerics"),
              std::string::npos);
    // every payload byte but the last, whose trailing bits are padding the decoder never needs
    for (size_t i = packed.size() - parse_container(packed).payloads[0].size(); i + 1 < packed.size(); i++) {
        std::string bad = packed;
        bad[i] = static_cast<char>(bad[i] ^ 0x04);
        EXPECT_NE(error_of(bad).find("corrupt"), std::string::npos) << "payload byte " << i;
    }
    EXPECT_NE(error_of(packed.substr(0, packed.size() - 1)).find("truncated"), std::string::npos);
    EXPECT_NE(error_of("plain text").find("not an lmx compressed file"), std::string::npos);
}

}  // namespace
