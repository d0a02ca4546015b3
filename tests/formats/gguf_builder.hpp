#pragma once
// Writes GGUF bytes in memory for the reader's tests: valid files by default, and any
// field can be made wrong (counts, version, types, offsets) to provoke each error.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "formats/gguf.hpp"
#include "tensor/dtype.hpp"

namespace gguf_test {

using Bytes = std::vector<uint8_t>;
using lmx::gguf::ValueType;

template <class T>
void put(Bytes& b, T v) {
    size_t at = b.size();
    b.resize(at + sizeof v);
    std::memcpy(b.data() + at, &v, sizeof v);
}

inline void put_str(Bytes& b, std::string_view s) {
    put<uint64_t>(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}

inline void put_type(Bytes& b, ValueType t) { put<uint32_t>(b, static_cast<uint32_t>(t)); }

class GgufBuilder {
public:
    uint32_t magic = 0x46554747;  // "GGUF"
    uint32_t version = 3;
    std::optional<uint64_t> tensor_count;  // written instead of the real counts when set
    std::optional<uint64_t> kv_count;
    uint64_t alignment = 32;  // where build() places data; pair with a general.alignment key

    // A key with its type id and the encoded value exactly as given.
    GgufBuilder& kv_raw(std::string_view key, uint32_t type, const Bytes& value) {
        put_str(kvs_, key);
        put<uint32_t>(kvs_, type);
        kvs_.insert(kvs_.end(), value.begin(), value.end());
        ++n_kv_;
        return *this;
    }
    template <class T>
    GgufBuilder& kv(std::string_view key, ValueType t, T v) {
        Bytes b;
        put(b, v);
        return kv_raw(key, static_cast<uint32_t>(t), b);
    }
    GgufBuilder& kv_str(std::string_view key, std::string_view s) {
        Bytes b;
        put_str(b, s);
        return kv_raw(key, static_cast<uint32_t>(ValueType::STRING), b);
    }
    // An array of n elements of type elem whose encodings are concatenated in items.
    GgufBuilder& kv_array(std::string_view key, ValueType elem, uint64_t n, const Bytes& items) {
        return kv_raw(key, static_cast<uint32_t>(ValueType::ARRAY), array_payload(elem, n, items));
    }
    static Bytes array_payload(ValueType elem, uint64_t n, const Bytes& items) {
        Bytes b;
        put_type(b, elem);
        put<uint64_t>(b, n);
        b.insert(b.end(), items.begin(), items.end());
        return b;
    }

    // A tensor info exactly as given; no data is added.
    GgufBuilder& tensor_raw(std::string_view name, const std::vector<uint64_t>& dims, uint32_t type,
                            uint64_t offset) {
        put_str(infos_, name);
        put<uint32_t>(infos_, static_cast<uint32_t>(dims.size()));
        for (uint64_t d : dims) put<uint64_t>(infos_, d);
        put<uint32_t>(infos_, type);
        put<uint64_t>(infos_, offset);
        ++n_tensors_;
        return *this;
    }
    // A valid tensor: its data (bytes 1, 2, 3, ...) is appended at the next aligned offset.
    GgufBuilder& tensor(std::string_view name, const std::vector<uint64_t>& dims, lmx::DType type) {
        while (data_.size() % alignment != 0) data_.push_back(0);
        uint64_t rows = 1;
        for (size_t d = 1; d < dims.size(); ++d) rows *= dims[d];
        size_t nbytes = lmx::dtype_row_bytes(type, static_cast<int64_t>(dims[0])) * rows;
        tensor_raw(name, dims, static_cast<uint32_t>(type), data_.size());
        for (size_t k = 0; k < nbytes; ++k) data_.push_back(static_cast<uint8_t>(k + 1));
        return *this;
    }

    // Header, metadata, tensor infos, padding to the alignment, data. The file ends
    // right after the last tensor's bytes, as llama.cpp's writer leaves it.
    Bytes build() const {
        Bytes b;
        put<uint32_t>(b, magic);
        put<uint32_t>(b, version);
        put<uint64_t>(b, tensor_count.value_or(n_tensors_));
        put<uint64_t>(b, kv_count.value_or(n_kv_));
        b.insert(b.end(), kvs_.begin(), kvs_.end());
        b.insert(b.end(), infos_.begin(), infos_.end());
        if (!data_.empty()) {
            while (b.size() % alignment != 0) b.push_back(0);
            b.insert(b.end(), data_.begin(), data_.end());
        }
        return b;
    }

private:
    Bytes kvs_, infos_, data_;
    uint64_t n_kv_ = 0, n_tensors_ = 0;
};

}  // namespace gguf_test
