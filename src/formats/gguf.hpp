#pragma once
// GGUF v2/v3 reader: metadata key/values (every value type, nested arrays), tensor
// infos, alignment, data offsets. Everything is validated against the file size; a
// bad file throws lmx::Error naming the key/tensor and the problem.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tensor/dtype.hpp"

namespace lmx {
class MappedFile;
}

namespace lmx::gguf {

namespace detail {
class Reader;  // bounds-checked cursor over the file's bytes (gguf.cpp)
}

enum class ValueType : uint32_t {
    UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
    BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view value_type_name(ValueType t);

struct Value {
    ValueType type = ValueType::UINT8;
    // Scalars: integers in i (signed) or u (unsigned), floats in f, bool in u.
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0;
    std::string s;                // STRING
    ValueType array_type = ValueType::UINT8;  // ARRAY element type
    std::vector<Value> array;     // ARRAY elements (may nest)

    bool is_integer() const;
    bool is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }
    int64_t as_int() const;       // integer or bool; throws otherwise
    double as_float() const;      // float or integer; throws otherwise
};

struct TensorInfo {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;   // ggml order: shape[0] is the innermost (contiguous) dim
    uint64_t offset = 0;          // relative to the start of the data section
    size_t nbytes = 0;
    const uint8_t* data = nullptr;  // points into the file's bytes
    int64_t elements() const;
};

class File {
public:
    // Maps the file and parses it; the File keeps the mapping alive.
    static File open(const std::string& path);
    // Parses an already opened file or adopted bytes (MappedFile's in-memory form).
    static File open(std::unique_ptr<MappedFile> file);
    // Parses bytes owned by the caller (tests, fuzzing); they must outlive the File.
    static File parse(const uint8_t* data, size_t size, std::string name = "<memory>");

    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    ~File();

    const std::string& path() const { return name_; }
    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    // Start of the tensor data: the header end aligned up. A file without tensors may
    // end before it (gguf-py writes no padding then).
    size_t data_offset() const { return data_offset_; }
    size_t file_size() const { return size_; }
    const uint8_t* file_bytes() const { return bytes_; }  // the whole file, file_size() bytes

    const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed getters: throw lmx::Error naming the key when missing or of the wrong type.
    std::string get_string(std::string_view key) const;
    int64_t get_int(std::string_view key) const;
    double get_float(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    std::vector<std::string> get_string_array(std::string_view key) const;
    std::vector<int64_t> get_int_array(std::string_view key) const;
    std::vector<double> get_float_array(std::string_view key) const;
    // With a default when the key is absent (wrong type still throws).
    std::string get_string(std::string_view key, std::string_view def) const;
    int64_t get_int(std::string_view key, int64_t def) const;
    double get_float(std::string_view key, double def) const;
    bool get_bool(std::string_view key, bool def) const;

    // Gives the mapped pages of [p, p + n) back to the OS once their contents were copied
    // (repacked weights); a later read maps them again. Nothing for bytes in memory.
    void release(const void* p, size_t n) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* tensor(std::string_view name) const;  // nullptr when absent

private:
    File() = default;
    void parse_all();
    void parse_header(detail::Reader& r);
    void parse_metadata(detail::Reader& r);
    void parse_tensor_infos(detail::Reader& r);
    void place_tensor_data(size_t header_end);
    // The value of key, which must exist and pass ok_type; throws naming the key otherwise.
    const Value& require(std::string_view key, bool ok_type(const Value&), const char* expected) const;

    std::string name_;
    std::unique_ptr<MappedFile> map_;
    const uint8_t* bytes_ = nullptr;
    size_t size_ = 0;
    uint32_t version_ = 0;
    uint64_t tensor_count_ = 0;
    uint64_t kv_count_ = 0;
    uint64_t alignment_ = 32;
    size_t data_offset_ = 0;
    std::vector<std::pair<std::string, Value>> kv_;
    std::unordered_map<std::string, size_t> kv_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace lmx::gguf
