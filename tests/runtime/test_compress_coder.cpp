// The arithmetic coder, CRC-32 and the container parser, without a model.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "base/crc32.hpp"
#include "base/error.hpp"
#include "runtime/compress_container.hpp"
#include "runtime/range_coder.hpp"

using namespace lmx;

namespace {

TEST(Crc32, KnownValuesAndChaining) {
    EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the standard check value
    EXPECT_EQ(crc32(""), 0u);
    EXPECT_EQ(crc32("6789", crc32("12345")), crc32("123456789"));
}

// Random symbols from skewed tables (including frequency-1 symbols next to huge ones)
// decode back, and the size is within a few bits of the ideal -sum log2 p.
TEST(ArithmeticCoder, RoundTripsAndApproachesTheEntropy) {
    std::mt19937 rng(5);
    for (uint32_t total : {4096u, 1u << 16, kMaxCoderTotal}) {
        std::vector<uint32_t> cum{0};
        std::uniform_int_distribution<uint32_t> f(1, 50);
        while (cum.back() < total - 2000) cum.push_back(cum.back() + std::min(total - 2000 - cum.back(), f(rng) * f(rng) * f(rng)));
        cum.push_back(total - 1);  // a frequency-1999 symbol
        cum.push_back(total);      // and a frequency-1 one
        const size_t n_sym = cum.size() - 1;
        std::vector<uint32_t> msg;
        double ideal_bits = 0;
        std::uniform_int_distribution<uint32_t> pos(0, total - 1);
        for (int i = 0; i < 20000; i++) {
            uint32_t s = static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), pos(rng)) - cum.begin()) - 1;
            if (i % 1000 == 999) s = static_cast<uint32_t>(n_sym - 1);  // the rare symbol too
            msg.push_back(s);
            ideal_bits -= std::log2(static_cast<double>(cum[s + 1] - cum[s]) / total);
        }
        ArithmeticEncoder enc;
        for (uint32_t s : msg) enc.encode(cum[s], cum[s + 1] - cum[s], total);
        const std::string bytes = enc.finish();
        EXPECT_LE(bytes.size() * 8.0, ideal_bits * 1.001 + 64) << "total " << total;
        ArithmeticDecoder dec(bytes);
        for (size_t i = 0; i < msg.size(); i++) {
            const uint32_t t = dec.target(total);
            ASSERT_LT(t, total);
            const uint32_t s = static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), t) - cum.begin()) - 1;
            ASSERT_EQ(s, msg[i]) << "symbol " << i << ", total " << total;
            dec.consume(cum[s], cum[s + 1] - cum[s], total);
        }
    }
}

TEST(ArithmeticCoder, RejectsInvalidSymbols) {
    ArithmeticEncoder enc;
    EXPECT_THROW(enc.encode(0, 0, 256), Error);
    EXPECT_THROW(enc.encode(250, 10, 256), Error);
    EXPECT_THROW(enc.encode(0, 1, kMaxCoderTotal * 2), Error);
}

ContainerHeader sample_header() {
    ContainerHeader h;
    h.model_sha256.fill(0xAB);
    h.tokenizer_sha256.fill(0xCD);
    h.params.n_vocab = 49152;
    h.original_bytes = 7;
    h.original_crc32 = crc32("abcdefg");
    h.chunks = {{4, 3, 2}, {3, 3, 1}};
    return h;
}

TEST(Container, WritesAndParsesBack) {
    const ContainerHeader h = sample_header();
    const std::string bytes = write_container(h, {"xy", "z"});
    const ParsedContainer p = parse_container(bytes);
    EXPECT_EQ(p.header.model_sha256, h.model_sha256);
    EXPECT_EQ(p.header.tokenizer_sha256, h.tokenizer_sha256);
    EXPECT_EQ(p.header.params, h.params);
    EXPECT_EQ(p.header.original_bytes, 7u);
    EXPECT_EQ(p.header.original_crc32, h.original_crc32);
    ASSERT_EQ(p.payloads.size(), 2u);
    EXPECT_EQ(p.payloads[0], "xy");
    EXPECT_EQ(p.payloads[1], "z");
}

std::string error_of(std::string_view bytes) {
    try {
        parse_container(bytes);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Container, NamesWhatIsWrong) {
    const std::string good = write_container(sample_header(), {"xy", "z"});
    EXPECT_NE(error_of("hello world").find("not an lmx compressed file"), std::string::npos);
    EXPECT_NE(error_of("").find("not an lmx compressed file"), std::string::npos);
    for (size_t cut = 4; cut < good.size(); cut++)
        EXPECT_NE(error_of(good.substr(0, cut)).find("truncated"), std::string::npos) << "cut at " << cut;
    EXPECT_NE(error_of(good + "!").find("corrupt"), std::string::npos);
    std::string v2 = good;
    v2[4] = 2;
    EXPECT_NE(error_of(v2).find("format version 2"), std::string::npos);
    for (size_t i = 8; i < good.size() - 3; i++) {  // any flipped header bit is caught
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        EXPECT_NE(error_of(bad), "") << "flipped byte " << i;
    }
}

}  // namespace
