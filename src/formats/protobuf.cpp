#include "formats/protobuf.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include "base/error.hpp"

namespace lmx::protobuf {

// Fixed-width values are copied with memcpy in host order; the wire format is
// little-endian, as is every target lmx builds for, wasm included.
static_assert(std::endian::native == std::endian::little, "the protobuf reader needs a little-endian host");

namespace {

constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;
constexpr size_t kMaxVarintBytes = 10;

}  // namespace

std::string_view wire_type_name(WireType t) {
    switch (t) {
        case WireType::VARINT: return "varint";
        case WireType::I64: return "fixed64";
        case WireType::LEN: return "length-delimited";
        case WireType::SGROUP: return "start-group";
        case WireType::EGROUP: return "end-group";
        case WireType::I32: return "fixed32";
    }
    return "unknown";
}

size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

// --- reader -------------------------------------------------------------------

uint64_t WireReader::varint(const char* what) {
    uint64_t v = 0;
    for (size_t i = 0; i < kMaxVarintBytes; ++i) {
        if (pos_ >= size_)
            fail("truncated: the varint of ", what, " runs past the end of its message at offset ", pos_);
        const uint8_t b = data_[pos_++];
        // The 10th byte holds only bit 63.
        if (i == kMaxVarintBytes - 1 && b > 1) fail("corrupt varint in ", what, ": more than 64 bits");
        v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) return v;
    }
    fail("corrupt varint in ", what, ": longer than 10 bytes");
}

void WireReader::next_field(uint32_t& number, WireType& type) {
    const uint64_t key = varint("a field tag");
    const uint64_t n = key >> 3;
    const uint32_t wt = static_cast<uint32_t>(key & 7);
    if (n == 0 || n > kMaxFieldNumber) fail("corrupt field tag ", key, " (field number ", n, ") at offset ", pos_);
    if (wt > 5) fail("corrupt field tag: field ", n, " has wire type ", wt, " (the wire format defines 0 to 5)");
    number = static_cast<uint32_t>(n);
    type = static_cast<WireType>(wt);
    if (type == WireType::SGROUP || type == WireType::EGROUP)
        fail("field ", n, " uses protobuf groups, which ONNX never writes (the file is corrupt or not ONNX)");
}

template <class T>
T WireReader::fixed(const char* what) {
    if (left() < sizeof(T))
        fail("truncated: ", what, " needs ", sizeof(T), " bytes at offset ", pos_, " but ", left(), " remain");
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
}

uint32_t WireReader::fixed32(const char* what) { return fixed<uint32_t>(what); }
uint64_t WireReader::fixed64(const char* what) { return fixed<uint64_t>(what); }

std::span<const uint8_t> WireReader::bytes(const char* what) {
    const uint64_t n = varint(what);
    if (n > left())
        fail("truncated or corrupt: ", what, " claims ", n, " bytes at offset ", pos_, " but only ", left(),
             " remain in its message");
    std::span<const uint8_t> s(data_ + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
}

std::string_view WireReader::string(const char* what) {
    std::span<const uint8_t> b = bytes(what);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

void WireReader::skip(WireType t, const char* what) {
    switch (t) {
        case WireType::VARINT: (void)varint(what); return;
        case WireType::I64: (void)fixed64(what); return;
        case WireType::LEN: (void)bytes(what); return;
        case WireType::I32: (void)fixed32(what); return;
        case WireType::SGROUP:
        case WireType::EGROUP: break;
    }
    fail("cannot skip ", what, ": groups are not supported");
}

void WireReader::expect(WireType got, WireType want, const char* what) {
    if (got != want)
        fail(what, " has wire type ", wire_type_name(got), ", expected ", wire_type_name(want),
             " (the file is corrupt or not ONNX)");
}

int64_t WireReader::int64(WireType t, const char* what) {
    expect(t, WireType::VARINT, what);
    return static_cast<int64_t>(varint(what));
}

int32_t WireReader::int32(WireType t, const char* what) {
    const int64_t v = int64(t, what);
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        fail(what, " is ", v, ", which does not fit in int32");
    return static_cast<int32_t>(v);
}

uint64_t WireReader::uint64(WireType t, const char* what) {
    expect(t, WireType::VARINT, what);
    return varint(what);
}

float WireReader::float32(WireType t, const char* what) {
    expect(t, WireType::I32, what);
    return std::bit_cast<float>(fixed32(what));
}

double WireReader::float64(WireType t, const char* what) {
    expect(t, WireType::I64, what);
    return std::bit_cast<double>(fixed64(what));
}

std::span<const uint8_t> WireReader::message(WireType t, const char* what) {
    expect(t, WireType::LEN, what);
    return bytes(what);
}

std::string_view WireReader::text(WireType t, const char* what) {
    expect(t, WireType::LEN, what);
    return string(what);
}

namespace {

// Packed varints: each element takes at least one byte, so the payload size bounds
// the count before anything is allocated.
template <class T, class Convert>
void packed_varints(WireReader& r, const char* what, std::vector<T>& out, Convert convert) {
    std::span<const uint8_t> p = r.bytes(what);
    WireReader sub(p);
    out.reserve(out.size() + p.size() / 2);
    while (!sub.done()) out.push_back(convert(sub.varint(what)));
}

template <class T>
void packed_fixed(WireReader& r, const char* what, std::vector<T>& out) {
    std::span<const uint8_t> p = r.bytes(what);
    if (p.size() % sizeof(T) != 0)
        fail("corrupt packed ", what, ": ", p.size(), " bytes is not a multiple of ", sizeof(T));
    const size_t n = p.size() / sizeof(T);
    const size_t at = out.size();
    out.resize(at + n);
    if (n) std::memcpy(out.data() + at, p.data(), p.size());
}

}  // namespace

void WireReader::repeated_int64(WireType t, const char* what, std::vector<int64_t>& out) {
    if (t == WireType::LEN)
        return packed_varints(*this, what, out, [](uint64_t v) { return static_cast<int64_t>(v); });
    out.push_back(int64(t, what));
}

void WireReader::repeated_int32(WireType t, const char* what, std::vector<int32_t>& out) {
    auto narrow = [what](uint64_t u) {
        const int64_t v = static_cast<int64_t>(u);
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
            fail(what, " holds ", v, ", which does not fit in int32");
        return static_cast<int32_t>(v);
    };
    if (t == WireType::LEN) return packed_varints(*this, what, out, narrow);
    out.push_back(int32(t, what));
}

void WireReader::repeated_uint64(WireType t, const char* what, std::vector<uint64_t>& out) {
    if (t == WireType::LEN) return packed_varints(*this, what, out, [](uint64_t v) { return v; });
    out.push_back(uint64(t, what));
}

void WireReader::repeated_float(WireType t, const char* what, std::vector<float>& out) {
    if (t == WireType::LEN) return packed_fixed<float>(*this, what, out);
    out.push_back(float32(t, what));
}

void WireReader::repeated_double(WireType t, const char* what, std::vector<double>& out) {
    if (t == WireType::LEN) return packed_fixed<double>(*this, what, out);
    out.push_back(float64(t, what));
}

// --- writer -------------------------------------------------------------------

void WireWriter::raw_varint(uint64_t v) {
    while (v >= 0x80) {
        out_.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
}

void WireWriter::tag(uint32_t number, WireType t) {
    raw_varint((static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(t));
}

void WireWriter::varint(uint32_t number, uint64_t v) {
    tag(number, WireType::VARINT);
    raw_varint(v);
}

void WireWriter::float32(uint32_t number, float v) {
    tag(number, WireType::I32);
    const uint32_t u = std::bit_cast<uint32_t>(v);
    const auto* p = reinterpret_cast<const uint8_t*>(&u);
    out_.insert(out_.end(), p, p + 4);
}

void WireWriter::float64(uint32_t number, double v) {
    tag(number, WireType::I64);
    const uint64_t u = std::bit_cast<uint64_t>(v);
    const auto* p = reinterpret_cast<const uint8_t*>(&u);
    out_.insert(out_.end(), p, p + 8);
}

void WireWriter::bytes(uint32_t number, const void* data, size_t n) {
    tag(number, WireType::LEN);
    raw_varint(n);
    const auto* p = static_cast<const uint8_t*>(data);
    if (n) out_.insert(out_.end(), p, p + n);
}

void WireWriter::packed_int64(uint32_t number, std::span<const int64_t> v) {
    if (v.empty()) return;
    const size_t m = begin(number);
    for (int64_t x : v) raw_varint(static_cast<uint64_t>(x));
    end(m);
}

void WireWriter::packed_int32(uint32_t number, std::span<const int32_t> v) {
    if (v.empty()) return;
    const size_t m = begin(number);
    for (int32_t x : v) raw_varint(static_cast<uint64_t>(static_cast<int64_t>(x)));
    end(m);
}

void WireWriter::packed_uint64(uint32_t number, std::span<const uint64_t> v) {
    if (v.empty()) return;
    const size_t m = begin(number);
    for (uint64_t x : v) raw_varint(x);
    end(m);
}

void WireWriter::packed_float(uint32_t number, std::span<const float> v) {
    if (!v.empty()) bytes(number, v.data(), v.size_bytes());
}

void WireWriter::packed_double(uint32_t number, std::span<const double> v) {
    if (!v.empty()) bytes(number, v.data(), v.size_bytes());
}

// The length goes in a 10-byte gap; end() moves the payload back over the unused part,
// so the output is canonical (shortest varints) without a second sizing pass.
size_t WireWriter::begin(uint32_t number) {
    tag(number, WireType::LEN);
    out_.resize(out_.size() + kMaxVarintBytes);
    return out_.size();
}

void WireWriter::end(size_t mark) {
    const size_t n = out_.size() - mark;
    uint8_t len[kMaxVarintBytes];
    size_t k = 0;
    uint64_t v = n;
    while (v >= 0x80) {
        len[k++] = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
    }
    len[k++] = static_cast<uint8_t>(v);
    uint8_t* gap = out_.data() + mark - kMaxVarintBytes;
    std::memcpy(gap, len, k);
    if (k != kMaxVarintBytes) std::memmove(gap + k, out_.data() + mark, n);
    out_.resize(out_.size() - (kMaxVarintBytes - k));
}

}  // namespace lmx::protobuf
