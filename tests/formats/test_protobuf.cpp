// Protobuf wire format: varints at their boundaries, negative int32 sign-extension,
// packed and unpacked repeated fields, nested lengths patched by the writer, and the
// reader's refusals (overlong varints, lengths past the end, groups, wrong wire types).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "formats/protobuf.hpp"

using lmx::protobuf::WireReader;
using lmx::protobuf::WireType;
using lmx::protobuf::WireWriter;

TEST(Protobuf, VarintsRoundTripAtTheirBoundaries) {
    const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, (uint64_t{1} << 35) - 1, uint64_t{1} << 63,
                               std::numeric_limits<uint64_t>::max()};
    std::vector<uint8_t> b;
    WireWriter w(b);
    for (uint64_t v : values) w.varint(1, v);
    WireReader r(b);
    for (uint64_t v : values) {
        uint32_t n;
        WireType t;
        r.next_field(n, t);
        EXPECT_EQ(n, 1u);
        EXPECT_EQ(r.uint64(t, "v"), v);
    }
    EXPECT_TRUE(r.done());
    EXPECT_EQ(lmx::protobuf::varint_size(0), 1u);
    EXPECT_EQ(lmx::protobuf::varint_size(std::numeric_limits<uint64_t>::max()), 10u);
}

TEST(Protobuf, NegativeInt32IsTenBytesAndRangeChecked) {
    std::vector<uint8_t> b;
    WireWriter w(b);
    w.int32(2, -1);
    EXPECT_EQ(b.size(), 11u);  // tag + 10-byte varint, as protobuf writes it
    WireReader r(b);
    uint32_t n;
    WireType t;
    r.next_field(n, t);
    EXPECT_EQ(r.int32(t, "x"), -1);

    std::vector<uint8_t> big;
    WireWriter(big).int64(2, int64_t{1} << 40);
    WireReader r2(big);
    r2.next_field(n, t);
    EXPECT_THROW(r2.int32(t, "x"), lmx::Error);
}

TEST(Protobuf, PackedAndUnpackedRepeatedFieldsReadAlike) {
    const std::vector<int64_t> ints = {0, -1, 300, int64_t{1} << 50};
    const std::vector<float> floats = {1.5f, -0.0f, 3e38f};
    std::vector<uint8_t> packed, unpacked;
    WireWriter p(packed), u(unpacked);
    p.packed_int64(1, ints);
    p.packed_float(2, floats);
    for (int64_t x : ints) u.int64(1, x);
    for (float x : floats) u.float32(2, x);
    for (const auto* b : {&packed, &unpacked}) {
        WireReader r(*b);
        std::vector<int64_t> gi;
        std::vector<float> gf;
        while (!r.done()) {
            uint32_t n;
            WireType t;
            r.next_field(n, t);
            if (n == 1) r.repeated_int64(t, "ints", gi);
            else r.repeated_float(t, "floats", gf);
        }
        EXPECT_EQ(gi, ints);
        EXPECT_EQ(gf, floats);
    }
}

TEST(Protobuf, NestedLengthsArePatchedShortest) {
    for (size_t len : {0u, 5u, 127u, 128u, 20000u}) {
        std::vector<uint8_t> b;
        WireWriter w(b);
        const size_t at = w.begin(7);
        std::string payload(len, 'x');
        b.insert(b.end(), payload.begin(), payload.end());
        w.end(at);
        EXPECT_EQ(b.size(), 1 + lmx::protobuf::varint_size(len) + len);
        WireReader r(b);
        uint32_t n;
        WireType t;
        r.next_field(n, t);
        EXPECT_EQ(r.text(t, "s"), payload);
    }
}

TEST(Protobuf, RefusesMalformedInput) {
    auto first_field = [](std::vector<uint8_t> b) {
        WireReader r(b);
        uint32_t n;
        WireType t;
        r.next_field(n, t);
        r.skip(t, "field");
    };
    std::vector<uint8_t> overlong(12, 0xff);
    overlong[0] = 0x08;
    overlong[11] = 0x00;
    EXPECT_THROW(first_field(overlong), lmx::Error);                       // 11-byte varint
    EXPECT_THROW(first_field({0x08, 0x80}), lmx::Error);                   // varint cut off
    EXPECT_THROW(first_field({0x0a, 0x05, 'a'}), lmx::Error);              // length past the end
    EXPECT_THROW(first_field({0x0b}), lmx::Error);                         // start-group
    EXPECT_THROW(first_field({0x0e}), lmx::Error);                         // wire type 6
    EXPECT_THROW(first_field({0x00}), lmx::Error);                         // field number 0
    EXPECT_THROW(first_field({0x0d, 1, 2}), lmx::Error);                   // fixed32 cut off
    EXPECT_THROW(WireReader::expect(WireType::LEN, WireType::VARINT, "x"), lmx::Error);
    std::vector<uint8_t> odd = {0x0a, 0x03, 1, 2, 3};                        // 3 bytes of packed floats
    WireReader r(odd);
    uint32_t n;
    WireType t;
    r.next_field(n, t);
    std::vector<float> f;
    EXPECT_THROW(r.repeated_float(t, "floats", f), lmx::Error);
}
