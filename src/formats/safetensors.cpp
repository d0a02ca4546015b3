#include "formats/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/mapped_file.hpp"

namespace lmx::safetensors {

using nlohmann::json;

namespace {

// safetensors refuses headers above 100 MB; so do we, before allocating anything.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

struct DTypeEntry {
    std::string_view name;
    size_t bytes;
    bool computable;  // has an lmx DType
    DType lmx;
};

constexpr DTypeEntry kDTypes[] = {
    {"F64", 8, true, DType::F64},   {"F32", 4, true, DType::F32},   {"F16", 2, true, DType::F16},
    {"BF16", 2, true, DType::BF16}, {"I64", 8, true, DType::I64},   {"I32", 4, true, DType::I32},
    {"I16", 2, true, DType::I16},   {"I8", 1, true, DType::I8},     {"U64", 8, false, DType::F32},
    {"U32", 4, false, DType::F32},  {"U16", 2, false, DType::F32},  {"U8", 1, false, DType::F32},
    {"BOOL", 1, false, DType::F32}, {"F8_E4M3", 1, false, DType::F32}, {"F8_E5M2", 1, false, DType::F32},
};

const DTypeEntry* find_dtype(std::string_view name) {
    for (const DTypeEntry& e : kDTypes)
        if (e.name == name) return &e;
    return nullptr;
}

uint64_t checked_u64(const json& v, const std::string& what) {
    if (!v.is_number_unsigned()) fail(what, " must be a non-negative integer, got ", v.dump());
    return v.get<uint64_t>();
}

}  // namespace

int64_t TensorInfo::elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

DType TensorInfo::lmx_dtype() const {
    const DTypeEntry* e = find_dtype(dtype);
    if (!e || !e->computable) fail("tensor '", name, "' has dtype ", dtype, ", which lmx cannot compute with (use F32, F16 or BF16 weights)");
    return e->lmx;
}

File File::open(const std::string& path) {
    File f;
    f.name_ = path;
    f.mapped_ = std::make_unique<MappedFile>(path);
    f.parse_all(f.mapped_->data(), f.mapped_->size());
    return f;
}

File File::parse(const uint8_t* data, size_t size, std::string name) {
    File f;
    f.name_ = std::move(name);
    f.parse_all(data, size);
    return f;
}

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

const TensorInfo* File::tensor(std::string_view name) const {
    for (const TensorInfo& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

void File::parse_all(const uint8_t* data, size_t size) {
    const std::string where = name_ + ": ";
    if (size < 8) fail(where, "not a safetensors file (", size, " bytes, shorter than the 8-byte header size)");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | data[i];
    if (header_len > kMaxHeaderBytes || header_len > size - 8)
        fail(where, "header size ", header_len, " does not fit in the file (", size, " bytes): truncated or not a safetensors file");
    const auto* header = reinterpret_cast<const char*>(data + 8);
    json h = json::parse(header, header + header_len, nullptr, /*allow_exceptions=*/false);
    if (!h.is_object()) fail(where, "the header is not a JSON object: not a safetensors file or a corrupt one");

    const uint8_t* body = data + 8 + header_len;
    const size_t body_size = size - 8 - static_cast<size_t>(header_len);
    for (auto it = h.begin(); it != h.end(); ++it) {
        const std::string& key = it.key();
        const json& v = it.value();
        if (key == "__metadata__") {
            if (!v.is_object()) fail(where, "__metadata__ must be an object of strings");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string()) fail(where, "__metadata__ value '", m.key(), "' must be a string");
                metadata_[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string what = where + "tensor '" + key + "'";
        if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
            fail(what, " must be an object with dtype, shape and data_offsets");
        const json &jd = v.at("dtype"), &js = v.at("shape"), &jo = v.at("data_offsets");
        if (!jd.is_string()) fail(what, ": dtype must be a string");
        TensorInfo t;
        t.name = key;
        t.dtype = jd.get<std::string>();
        const DTypeEntry* e = find_dtype(t.dtype);
        if (!e) fail(what, ": unknown dtype '", t.dtype, "'");
        t.elem_bytes = e->bytes;
        if (!js.is_array()) fail(what, ": shape must be an array");
        uint64_t elems = 1;
        for (const json& d : js) {
            const uint64_t n = checked_u64(d, what + " shape dim");
            if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || (n != 0 && elems > body_size / n))
                fail(what, ": shape ", js.dump(), " is larger than the file");
            elems *= n;
            t.shape.push_back(static_cast<int64_t>(n));
        }
        if (!jo.is_array() || jo.size() != 2) fail(what, ": data_offsets must be [begin, end]");
        const uint64_t begin = checked_u64(jo[0], what + " data_offsets"), end = checked_u64(jo[1], what + " data_offsets");
        if (begin > end || end > body_size)
            fail(what, ": data_offsets [", begin, ", ", end, ") are outside the data section (", body_size, " bytes)");
        if (end - begin != elems * t.elem_bytes)
            fail(what, ": data_offsets span ", end - begin, " bytes but shape ", js.dump(), " of ", t.dtype, " needs ",
                 elems * t.elem_bytes);
        t.data = body + begin;
        t.nbytes = static_cast<size_t>(end - begin);
        tensors_.push_back(std::move(t));
    }
    // Overlapping ranges mean a corrupt or hostile file: a write through one tensor's
    // view would change another.
    std::vector<const TensorInfo*> by_offset;
    for (const TensorInfo& t : tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->data < b->data; });
    for (size_t i = 1; i < by_offset.size(); i++)
        if (by_offset[i - 1]->data + by_offset[i - 1]->nbytes > by_offset[i]->data)
            fail(where, "tensors '", by_offset[i - 1]->name, "' and '", by_offset[i]->name, "' overlap");
}

}  // namespace lmx::safetensors
