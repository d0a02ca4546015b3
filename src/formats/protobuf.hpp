#pragma once
// Protocol Buffers wire format (https://protobuf.dev/programming-guides/encoding/),
// our own code so the core builds without libprotobuf (Emscripten included).
// WireReader walks the fields of one message over bytes owned by someone else: every
// varint, tag and length is checked against the bytes left, and a failure throws
// lmx::Error naming the field being read. WireWriter appends fields to a byte buffer,
// nested messages with their length patched in afterwards.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace lmx::protobuf {

enum class WireType : uint8_t { VARINT = 0, I64 = 1, LEN = 2, SGROUP = 3, EGROUP = 4, I32 = 5 };

std::string_view wire_type_name(WireType t);

class WireReader {
public:
    WireReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    explicit WireReader(std::span<const uint8_t> s) : data_(s.data()), size_(s.size()) {}

    bool done() const { return pos_ >= size_; }
    size_t pos() const { return pos_; }
    size_t left() const { return size_ - pos_; }

    // Reads the next tag; the field number is 1 .. 2^29-1, the wire type 0..5 (groups
    // are rejected: ONNX never uses them).
    void next_field(uint32_t& number, WireType& type);

    uint64_t varint(const char* what);
    uint32_t fixed32(const char* what);
    uint64_t fixed64(const char* what);
    std::span<const uint8_t> bytes(const char* what);   // a LEN field's payload
    std::string_view string(const char* what);
    void skip(WireType t, const char* what);

    // Calls on_field(number, type) for each field left in the message; on_field reads
    // or skips the field's value through this reader before it returns.
    template <class OnField>
    void for_each_field(OnField&& on_field) {
        while (!done()) {
            uint32_t number;
            WireType type;
            next_field(number, type);
            on_field(number, type);
        }
    }

    // Typed readers: check the wire type and the value's range.
    int64_t int64(WireType t, const char* what);
    int32_t int32(WireType t, const char* what);     // int32 varints are sign-extended to 64 bits
    uint64_t uint64(WireType t, const char* what);
    float float32(WireType t, const char* what);
    double float64(WireType t, const char* what);
    std::span<const uint8_t> message(WireType t, const char* what);  // LEN payload
    std::string_view text(WireType t, const char* what);             // LEN payload as characters

    // Repeated scalar fields arrive packed (one LEN field) or unpacked (one value per
    // field); both append to out.
    void repeated_int64(WireType t, const char* what, std::vector<int64_t>& out);
    void repeated_int32(WireType t, const char* what, std::vector<int32_t>& out);
    void repeated_uint64(WireType t, const char* what, std::vector<uint64_t>& out);
    void repeated_float(WireType t, const char* what, std::vector<float>& out);
    void repeated_double(WireType t, const char* what, std::vector<double>& out);

    // Throws unless the field has wire type want.
    static void expect(WireType got, WireType want, const char* what);

private:
    template <class T>
    T fixed(const char* what);  // fixed32 and fixed64

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

class WireWriter {
public:
    explicit WireWriter(std::vector<uint8_t>& out) : out_(out) {}

    void tag(uint32_t number, WireType t);
    void raw_varint(uint64_t v);
    void varint(uint32_t number, uint64_t v);
    void int64(uint32_t number, int64_t v) { varint(number, static_cast<uint64_t>(v)); }
    void int32(uint32_t number, int32_t v) { varint(number, static_cast<uint64_t>(static_cast<int64_t>(v))); }
    void float32(uint32_t number, float v);
    void float64(uint32_t number, double v);
    void bytes(uint32_t number, const void* data, size_t n);
    void string(uint32_t number, std::string_view s) { bytes(number, s.data(), s.size()); }

    // Packed repeated scalars (proto3 default); empty lists write nothing.
    void packed_int64(uint32_t number, std::span<const int64_t> v);
    void packed_int32(uint32_t number, std::span<const int32_t> v);
    void packed_uint64(uint32_t number, std::span<const uint64_t> v);
    void packed_float(uint32_t number, std::span<const float> v);
    void packed_double(uint32_t number, std::span<const double> v);

    // begin() writes the tag and reserves room for the length; end() writes the length
    // of everything appended since and closes the gap.
    size_t begin(uint32_t number);
    void end(size_t mark);

    std::vector<uint8_t>& buffer() { return out_; }

private:
    std::vector<uint8_t>& out_;
};

size_t varint_size(uint64_t v);

}  // namespace lmx::protobuf
