#include "formats/gguf.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "base/error.hpp"
#include "base/mapped_file.hpp"

namespace lmx::gguf {

// Values are copied out with memcpy in host order; GGUF is little-endian (big-endian
// files are rejected below), as is every target lmx builds for, wasm included.
static_assert(std::endian::native == std::endian::little, "the GGUF reader needs a little-endian host");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kValueTypeCount = 13;
constexpr uint32_t kMaxDims = 4;
// The spec allows arrays of arrays; real files nest at most once. The limit bounds
// recursion on hostile input.
constexpr int kMaxArrayDepth = 8;
// Each array element becomes a ~100-byte Value, so a corrupt length that makes the
// reader walk the tensor data as metadata could cost gigabytes. Real files hold under
// 1.5M elements (a 262k vocabulary's tokens, scores, types and merges).
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 22;
constexpr size_t kMaxReserve = size_t{1} << 16;  // beyond this, vectors grow as bytes are read
constexpr size_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, 1-byte value
constexpr size_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, 1 dim, type, offset
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

bool is_signed(ValueType t) {
    return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}
bool is_unsigned(ValueType t) {
    return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}

// Fewest bytes one value of type t occupies in the file: an array claiming more
// elements than the remaining bytes can hold is rejected before anything is allocated.
size_t min_encoded_size(ValueType t) {
    switch (t) {
        case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
        case ValueType::UINT16: case ValueType::INT16: return 2;
        case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
        case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: case ValueType::STRING: return 8;
        case ValueType::ARRAY: return 4 + 8;
    }
    return 1;
}

std::string describe(const Value& v) {
    std::string d(value_type_name(v.type));
    if (v.type == ValueType::ARRAY) d += " of " + std::string(value_type_name(v.array_type));
    return d;
}

}  // namespace

namespace detail {

class Reader {
public:
    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    size_t pos() const { return pos_; }
    size_t left() const { return size_ - pos_; }

    template <class T>
    T read(const char* what) {
        if (left() < sizeof(T))
            fail("truncated: the ", what, " needs ", sizeof(T), " bytes at offset ", pos_,
                 " but the file ends at ", size_);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }

    std::string_view string(const char* what) {
        uint64_t n = read<uint64_t>(what);
        if (n > left())
            fail("truncated or corrupt: the ", what, " claims ", n, " bytes at offset ", pos_,
                 " but only ", left(), " remain in the file");
        std::string_view s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
        pos_ += static_cast<size_t>(n);
        return s;
    }

    // A count of items that each take at least min_bytes in the rest of the file.
    uint64_t count(const char* what, size_t min_bytes) {
        uint64_t n = read<uint64_t>(what);
        if (n > left() / min_bytes)
            fail("corrupt ", what, " ", n, ": that many entries cannot fit in the ", left(),
                 " bytes left in the file");
        return n;
    }

    // Charges n array elements against the whole file's budget.
    void take_elements(uint64_t n) {
        if (n > elements_left_)
            fail("arrays hold more than ", kMaxArrayElements,
                 " elements in total; the file is corrupt or not a model lmx can load");
        elements_left_ -= n;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    uint64_t elements_left_ = kMaxArrayElements;
};

}  // namespace detail

using detail::Reader;

namespace {

ValueType read_value_type(Reader& r, const char* what) {
    uint32_t t = r.read<uint32_t>(what);
    if (t >= kValueTypeCount) fail("unknown value type ", t, " (GGUF defines types 0 to 12)");
    return static_cast<ValueType>(t);
}

Value read_value(Reader& r, ValueType type, int depth) {
    Value v;
    v.type = type;
    switch (type) {
        case ValueType::UINT8: v.u = r.read<uint8_t>("uint8 value"); break;
        case ValueType::INT8: v.i = r.read<int8_t>("int8 value"); break;
        case ValueType::UINT16: v.u = r.read<uint16_t>("uint16 value"); break;
        case ValueType::INT16: v.i = r.read<int16_t>("int16 value"); break;
        case ValueType::UINT32: v.u = r.read<uint32_t>("uint32 value"); break;
        case ValueType::INT32: v.i = r.read<int32_t>("int32 value"); break;
        case ValueType::UINT64: v.u = r.read<uint64_t>("uint64 value"); break;
        case ValueType::INT64: v.i = r.read<int64_t>("int64 value"); break;
        case ValueType::FLOAT32: v.f = r.read<float>("float32 value"); break;
        case ValueType::FLOAT64: v.f = r.read<double>("float64 value"); break;
        case ValueType::BOOL: {
            uint8_t b = r.read<uint8_t>("bool value");
            if (b > 1) fail("bool value is ", int(b), ", expected 0 or 1");
            v.u = b;
            break;
        }
        case ValueType::STRING: v.s = r.string("string length"); break;
        case ValueType::ARRAY: {
            if (depth >= kMaxArrayDepth) fail("arrays nested more than ", kMaxArrayDepth, " deep");
            v.array_type = read_value_type(r, "array element type");
            uint64_t n = r.count("array length", min_encoded_size(v.array_type));
            r.take_elements(n);
            v.array.reserve(static_cast<size_t>(std::min<uint64_t>(n, kMaxReserve)));
            for (uint64_t k = 0; k < n; ++k) {
                try {
                    v.array.push_back(read_value(r, v.array_type, depth + 1));
                } catch (const Error& e) {
                    fail("array element ", k, " of ", n, ": ", e.what());
                }
            }
            break;
        }
    }
    return v;
}

}  // namespace

std::string_view value_type_name(ValueType t) {
    switch (t) {
        case ValueType::UINT8: return "uint8";
        case ValueType::INT8: return "int8";
        case ValueType::UINT16: return "uint16";
        case ValueType::INT16: return "int16";
        case ValueType::UINT32: return "uint32";
        case ValueType::INT32: return "int32";
        case ValueType::FLOAT32: return "float32";
        case ValueType::BOOL: return "bool";
        case ValueType::STRING: return "string";
        case ValueType::ARRAY: return "array";
        case ValueType::UINT64: return "uint64";
        case ValueType::INT64: return "int64";
        case ValueType::FLOAT64: return "float64";
    }
    return "unknown";
}

bool Value::is_integer() const { return is_signed(type) || is_unsigned(type); }

int64_t Value::as_int() const {
    if (is_signed(type)) return i;
    if (is_unsigned(type) || type == ValueType::BOOL) {
        if (u > static_cast<uint64_t>(kInt64Max)) fail("value ", u, " does not fit in int64");
        return static_cast<int64_t>(u);
    }
    fail("a value of type ", describe(*this), " is not an integer");
}

double Value::as_float() const {
    if (is_float()) return f;
    if (is_signed(type)) return static_cast<double>(i);
    if (is_unsigned(type)) return static_cast<double>(u);
    fail("a value of type ", describe(*this), " is not a number");
}

int64_t TensorInfo::elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

File File::open(const std::string& path) { return open(std::make_unique<MappedFile>(path)); }

void File::release(const void* p, size_t n) const {
    if (map_) map_->release(p, n);
}

File File::open(std::unique_ptr<MappedFile> file) {
    File f;
    f.map_ = std::move(file);
    f.name_ = f.map_->path();
    f.bytes_ = f.map_->data();
    f.size_ = f.map_->size();
    f.parse_all();
    return f;
}

File File::parse(const uint8_t* data, size_t size, std::string name) {
    File f;
    f.name_ = std::move(name);
    f.bytes_ = data;
    f.size_ = size;
    f.parse_all();
    return f;
}

void File::parse_all() {
    try {
        Reader r(bytes_, size_);
        parse_header(r);
        parse_metadata(r);
        parse_tensor_infos(r);
        place_tensor_data(r.pos());
    } catch (const Error& e) {
        fail(name_, ": ", e.what());
    }
}

void File::parse_header(Reader& r) {
    uint32_t magic = r.read<uint32_t>("magic");
    if (magic != kMagic) fail("not a GGUF file (it does not start with 'GGUF')");
    version_ = r.read<uint32_t>("version");
    // A big-endian file's small version number lands in the high bytes.
    if (version_ != 0 && (version_ & 0xFFFF) == 0)
        fail("big-endian GGUF (version ", version_ >> 24,
             ") is not supported; convert the model to little-endian GGUF");
    if (version_ == 1)
        fail("GGUF version 1 is not supported (lmx reads v2 and v3); re-convert the model with a "
             "current llama.cpp");
    if (version_ != 2 && version_ != 3)
        fail("unsupported GGUF version ", version_, " (lmx reads v2 and v3)");
    tensor_count_ = r.count("tensor count", kMinTensorInfoBytes);
    kv_count_ = r.count("metadata key/value count", kMinKvBytes);
}

void File::parse_metadata(Reader& r) {
    for (uint64_t k = 0; k < kv_count_; ++k) {
        std::string key;
        try {
            key = r.string("key length");
        } catch (const Error& e) {
            fail("metadata entry ", k, ": ", e.what());
        }
        try {
            ValueType type = read_value_type(r, "value type");
            Value v = read_value(r, type, 0);
            if (!kv_index_.emplace(key, kv_.size()).second) fail("duplicate key");
            kv_.emplace_back(std::move(key), std::move(v));
        } catch (const Error& e) {
            fail("key ", shown(key), ": ", e.what());
        }
    }
    if (const Value* a = find("general.alignment")) {
        if (a->type != ValueType::UINT32)
            fail("key 'general.alignment' is ", describe(*a), ", expected uint32");
        if (a->u == 0 || (a->u & (a->u - 1)) != 0)
            fail("key 'general.alignment' is ", a->u, ", expected a non-zero power of two");
        alignment_ = a->u;
    }
}

void File::parse_tensor_infos(Reader& r) {
    for (uint64_t k = 0; k < tensor_count_; ++k) {
        TensorInfo t;
        try {
            t.name = r.string("tensor name length");
        } catch (const Error& e) {
            fail("tensor info ", k, ": ", e.what());
        }
        try {
            uint32_t n_dims = r.read<uint32_t>("dimension count");
            if (n_dims == 0 || n_dims > kMaxDims)
                fail("has ", n_dims, " dimensions; GGUF tensors have 1 to ", kMaxDims);
            t.shape.resize(n_dims);
            int64_t elements = 1;
            for (uint32_t d = 0; d < n_dims; ++d) {
                uint64_t dim = r.read<uint64_t>("dimension");
                if (dim == 0 || dim > static_cast<uint64_t>(kInt64Max))
                    fail("dimension ", d, " is ", static_cast<int64_t>(dim), "; dimensions must be positive");
                t.shape[d] = static_cast<int64_t>(dim);
                if (elements > kInt64Max / t.shape[d]) fail("element count overflows int64");
                elements *= t.shape[d];
            }
            uint32_t type = r.read<uint32_t>("type");
            const DTypeInfo* info = dtype_info(type);
            if (info == nullptr)
                fail("has ggml type ", type, ", which lmx does not support (unknown or removed type)");
            t.dtype = info->type;
            if (t.shape[0] % info->block_elems != 0)
                fail("first dimension ", t.shape[0], " is not a multiple of the ", info->name,
                     " block size ", info->block_elems);
            t.offset = r.read<uint64_t>("data offset");
            if (!tensor_index_.emplace(t.name, tensors_.size()).second) fail("duplicate tensor name");
            tensors_.push_back(std::move(t));
        } catch (const Error& e) {
            fail("tensor ", shown(t.name), ": ", e.what());
        }
    }
}

void File::place_tensor_data(size_t header_end) {
    data_offset_ = (header_end + alignment_ - 1) / alignment_ * alignment_;
    // Bytes from the data section start to the end of the file; a file without
    // tensors may end before the padding (gguf-py writes none then).
    const uint64_t avail = data_offset_ <= size_ ? size_ - data_offset_ : 0;
    for (TensorInfo& t : tensors_) {
        try {
            if (t.offset % alignment_ != 0)
                fail("data offset ", t.offset, " is not a multiple of the alignment ", alignment_);
            const uint64_t row = dtype_row_bytes(t.dtype, t.shape[0]);
            const uint64_t rows = static_cast<uint64_t>(t.elements() / t.shape[0]);
            if (rows > std::numeric_limits<uint64_t>::max() / row) fail("byte size overflows");
            const uint64_t nbytes = row * rows;
            if (t.offset > avail || nbytes > avail - t.offset)
                fail(nbytes, " bytes at data offset ", t.offset, " (data section starts at ", data_offset_,
                     ") lie past the end of the file (", size_, " bytes); the file is truncated or corrupt");
            t.nbytes = static_cast<size_t>(nbytes);
            t.data = bytes_ + data_offset_ + t.offset;
        } catch (const Error& e) {
            fail("tensor ", shown(t.name), ": ", e.what());
        }
    }
}

const Value* File::find(std::string_view key) const {
    auto it = kv_index_.find(std::string(key));
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* File::tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const Value& File::require(std::string_view key, bool ok_type(const Value&), const char* expected) const {
    const Value* v = find(key);
    if (v == nullptr) fail(name_, ": required key '", key, "' is missing");
    if (!ok_type(*v)) fail(name_, ": key '", key, "' is ", describe(*v), ", expected ", expected);
    return *v;
}

namespace {
bool is_string(const Value& v) { return v.type == ValueType::STRING; }
bool is_number(const Value& v) { return v.is_float() || v.is_integer(); }
bool is_int(const Value& v) { return v.is_integer(); }
bool is_bool(const Value& v) { return v.type == ValueType::BOOL; }
bool is_string_array(const Value& v) {
    return v.type == ValueType::ARRAY && v.array_type == ValueType::STRING;
}
bool is_int_array(const Value& v) {
    return v.type == ValueType::ARRAY && (is_signed(v.array_type) || is_unsigned(v.array_type));
}
bool is_number_array(const Value& v) {
    return is_int_array(v) || (v.type == ValueType::ARRAY && (v.array_type == ValueType::FLOAT32 ||
                                                              v.array_type == ValueType::FLOAT64));
}
}  // namespace

std::string File::get_string(std::string_view key) const {
    return require(key, is_string, "a string").s;
}

int64_t File::get_int(std::string_view key) const {
    const Value& v = require(key, is_int, "an integer");
    try {
        return v.as_int();
    } catch (const Error& e) {
        fail(name_, ": key '", key, "': ", e.what());
    }
}

double File::get_float(std::string_view key) const {
    return require(key, is_number, "a number").as_float();
}

bool File::get_bool(std::string_view key) const { return require(key, is_bool, "a bool").u != 0; }

std::vector<std::string> File::get_string_array(std::string_view key) const {
    const Value& v = require(key, is_string_array, "an array of strings");
    std::vector<std::string> out;
    out.reserve(v.array.size());
    for (const Value& e : v.array) out.push_back(e.s);
    return out;
}

std::vector<int64_t> File::get_int_array(std::string_view key) const {
    const Value& v = require(key, is_int_array, "an array of integers");
    std::vector<int64_t> out;
    out.reserve(v.array.size());
    try {
        for (const Value& e : v.array) out.push_back(e.as_int());
    } catch (const Error& e) {
        fail(name_, ": key '", key, "': element ", out.size(), ": ", e.what());
    }
    return out;
}

std::vector<double> File::get_float_array(std::string_view key) const {
    const Value& v = require(key, is_number_array, "an array of numbers");
    std::vector<double> out;
    out.reserve(v.array.size());
    for (const Value& e : v.array) out.push_back(e.as_float());
    return out;
}

std::string File::get_string(std::string_view key, std::string_view def) const {
    return has(key) ? get_string(key) : std::string(def);
}
int64_t File::get_int(std::string_view key, int64_t def) const { return has(key) ? get_int(key) : def; }
double File::get_float(std::string_view key, double def) const { return has(key) ? get_float(key) : def; }
bool File::get_bool(std::string_view key, bool def) const { return has(key) ? get_bool(key) : def; }

}  // namespace lmx::gguf
