#pragma once
// safetensors reader (HF's weight format): an 8-byte little-endian header size, a JSON
// header naming each tensor's dtype, shape and [begin, end) byte range in the data
// section that follows, then the data. Everything is validated against the file size:
// known dtypes, shapes whose byte size matches the range, ranges inside the data and
// not overlapping. A bad file throws lmx::Error naming the tensor and the problem.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.hpp"

namespace lmx {
class MappedFile;
}

namespace lmx::safetensors {

struct TensorInfo {
    std::string name;
    std::string dtype;            // as the header spells it: "F32", "BF16", "I64"...
    size_t elem_bytes = 0;
    std::vector<int64_t> shape;   // row-major, as PyTorch: shape.back() is contiguous
    const uint8_t* data = nullptr;  // points into the file's bytes (no alignment promised)
    size_t nbytes = 0;

    int64_t elements() const;
    // The lmx DType of a float or integer tensor; throws lmx::Error naming the tensor for
    // dtypes lmx does not compute with (U8, BOOL, F8_*...).
    DType lmx_dtype() const;
};

class File {
public:
    static File open(const std::string& path);  // maps the file; the File keeps the mapping
    // Parses bytes owned by the caller (tests, fuzzing); they must outlive the File.
    static File parse(const uint8_t* data, size_t size, std::string name = "<memory>");
    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    ~File();

    const std::string& path() const { return name_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in header order
    const TensorInfo* tensor(std::string_view name) const;               // nullptr when absent
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

private:
    File() = default;
    void parse_all(const uint8_t* data, size_t size);

    std::string name_;
    std::unique_ptr<MappedFile> mapped_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, std::string> metadata_;
};

}  // namespace lmx::safetensors
