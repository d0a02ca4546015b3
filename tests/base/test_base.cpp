#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>

#include "base/error.hpp"
#include "base/fp16.hpp"
#include "base/sha256.hpp"
#include "base/thread_pool.hpp"

using namespace lmx;

TEST(Sha256, KnownVectors) {  // FIPS 180-4 examples
    EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT_EQ(sha256_hex(m.data(), m.size()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, StreamingMatchesOneShot) {
    std::string m(1000, 'a');
    for (size_t i = 0; i < m.size(); i++) m[i] = char(i * 7);
    Sha256 h;
    for (size_t i = 0; i < m.size(); i += 37) h.update(m.data() + i, std::min<size_t>(37, m.size() - i));
    EXPECT_EQ(h.finish_hex(), sha256_hex(m.data(), m.size()));
}

TEST(Fp16, RoundTripsEveryHalf) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = fp16_to_fp32(uint16_t(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(fp32_to_fp16(f), h);
    }
    EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // rounds to +inf
}

TEST(ThreadPool, EveryThreadRunsAndRangesCover) {
    for (int n : {1, 2, 3, 4}) {
        ThreadPool pool(n);
        std::atomic<int64_t> sum{0};
        for (int rep = 0; rep < 100; rep++) {
            pool.run([&](int ith, int nth) {
                Range r = split_range(1000, ith, nth);
                for (int64_t i = r.begin; i < r.end; i++) sum += i;
            });
        }
        EXPECT_EQ(sum.load(), 100 * 999 * 1000 / 2);
    }
}

TEST(ThreadPool, RethrowsJobErrors) {
    ThreadPool pool(2);
    EXPECT_THROW(pool.run([](int ith, int) { if (ith == 1) fail("boom"); }), Error);
    int ran = 0;
    pool.run([&](int ith, int) { if (ith == 0) ran++; });  // still usable
    EXPECT_EQ(ran, 1);
}
