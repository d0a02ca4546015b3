#pragma once
// ONNX model reader and writer (onnx.proto: the model, its graph, nested If/Loop bodies,
// model-local functions) on our own protobuf wire-format code (formats/protobuf.hpp),
// so the core needs no libprotobuf. The reader maps the file and keeps
// raw_data initializers as views into it (zero-copy); typed fields (float_data,
// int32_data, ...) are converted once into the same little-endian layout. External
// data (`data_location: EXTERNAL`) is resolved relative to the model's folder, mapped,
// bounds-checked, and refused when its path leaves that folder. Every length, varint
// and tag is checked; a bad file throws lmx::Error naming the field (with its path in
// the graph) and what to do. Sparse tensors are rejected.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmx {
class MappedFile;
}

namespace lmx::onnx {

// TensorProto.DataType, numbered as onnx.proto.
enum class DataType : int32_t {
    UNDEFINED = 0, FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7,
    STRING = 8, BOOL = 9, FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, COMPLEX64 = 14,
    COMPLEX128 = 15, BFLOAT16 = 16, FLOAT8E4M3FN = 17, FLOAT8E4M3FNUZ = 18, FLOAT8E5M2 = 19,
    FLOAT8E5M2FNUZ = 20, UINT4 = 21, INT4 = 22, FLOAT4E2M1 = 23, FLOAT8E8M0 = 24, UINT2 = 25,
    INT2 = 26, FLOAT6E2M3 = 27, FLOAT6E3M2 = 28,
};
constexpr int32_t kMaxDataType = 28;

std::string_view data_type_name(DataType t);  // "float16", "int4"... as onnx's helper names them
int data_type_bits(DataType t);               // bits per element; 0 for UNDEFINED and STRING
// Bytes of n elements as raw_data stores them (sub-byte types packed, low bits first).
// Throws lmx::Error when the size overflows.
size_t data_type_bytes(DataType t, int64_t n);

using StringMap = std::vector<std::pair<std::string, std::string>>;  // StringStringEntryProto, in file order

struct Tensor {
    enum class Storage : uint8_t { RAW, TYPED, EXTERNAL };

    std::string name;
    DataType dtype = DataType::UNDEFINED;
    std::vector<int64_t> dims;
    std::string doc_string;
    StringMap metadata_props;
    Storage storage = Storage::RAW;        // where the file keeps the values (the writer keeps it)
    StringMap external_data;               // location / offset / length / checksum, as written
    std::vector<std::string> strings;      // STRING tensors only

    int64_t elements() const;              // product of dims (validated not to overflow)
    size_t nbytes() const { return bytes().size(); }
    // The values, little-endian, packed as raw_data stores them. Empty for an external
    // tensor whose file was not resolved (parsed from memory without a folder).
    std::span<const uint8_t> bytes() const { return owned_ ? std::span<const uint8_t>(*owned_) : view_; }
    bool has_data() const { return owned_ || view_.data() != nullptr || elements() == 0; }

    void set_view(std::span<const uint8_t> v) { view_ = v; owned_.reset(); }
    void set_owned(std::vector<uint8_t> v) { owned_ = std::make_shared<const std::vector<uint8_t>>(std::move(v)); }

    bool operator==(const Tensor& o) const;  // everything but where the bytes live

private:
    std::span<const uint8_t> view_;        // into a mapped file
    std::shared_ptr<const std::vector<uint8_t>> owned_;  // converted typed data (shared by copies)
};

struct Dim {
    std::optional<int64_t> value;  // dim_value
    std::string param;             // dim_param (symbolic); neither set = unknown
    std::string denotation;
    bool operator==(const Dim&) const = default;
};

struct TypeProto {
    enum class Kind : uint8_t { NONE, TENSOR, SEQUENCE, MAP, OPTIONAL, SPARSE_TENSOR };
    Kind kind = Kind::NONE;
    DataType elem_type = DataType::UNDEFINED;  // TENSOR / SPARSE_TENSOR
    bool has_shape = false;                    // an absent shape means unknown rank
    std::vector<Dim> shape;
    DataType key_type = DataType::UNDEFINED;   // MAP
    std::vector<TypeProto> elem;               // SEQUENCE / OPTIONAL element, MAP value: one entry
    std::string denotation;
    bool operator==(const TypeProto&) const = default;
};

struct ValueInfo {
    std::string name;
    TypeProto type;
    std::string doc_string;
    StringMap metadata_props;
    bool operator==(const ValueInfo&) const = default;
};

enum class AttrType : int32_t {
    UNDEFINED = 0, FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7,
    STRINGS = 8, TENSORS = 9, GRAPHS = 10, SPARSE_TENSOR = 11, SPARSE_TENSORS = 12, TYPE_PROTO = 13,
    TYPE_PROTOS = 14,
};
std::string_view attr_type_name(AttrType t);

struct Graph;

struct Attribute {
    std::string name;
    std::string ref_attr_name;
    std::string doc_string;
    AttrType type = AttrType::UNDEFINED;
    float f = 0;
    int64_t i = 0;
    std::string s;
    std::vector<float> floats;
    std::vector<int64_t> ints;
    std::vector<std::string> strings;
    std::vector<Tensor> tensors;          // TENSOR: exactly one
    std::vector<Graph> graphs;            // GRAPH: exactly one (If/Loop/Scan bodies)
    std::vector<TypeProto> type_protos;   // TYPE_PROTO: exactly one
    bool operator==(const Attribute& o) const;
};

struct Node {
    std::vector<std::string> inputs;      // "" = an omitted optional input
    std::vector<std::string> outputs;
    std::string name;
    std::string op_type;
    std::string domain;                   // "" (ai.onnx), "com.microsoft", ...
    std::string overload;
    std::vector<Attribute> attributes;
    std::string doc_string;
    StringMap metadata_props;
    const Attribute* attribute(std::string_view n) const;  // nullptr when absent
    bool operator==(const Node&) const = default;
};

struct Graph {
    std::string name;
    std::vector<Node> nodes;
    std::vector<Tensor> initializers;
    std::string doc_string;
    std::vector<ValueInfo> inputs;
    std::vector<ValueInfo> outputs;
    std::vector<ValueInfo> value_info;
    StringMap metadata_props;
    const Tensor* initializer(std::string_view n) const;  // nullptr when absent
    bool operator==(const Graph&) const = default;
};

struct OpsetId {
    std::string domain;   // "" and "ai.onnx" are the standard operator set
    int64_t version = 0;
    bool operator==(const OpsetId&) const = default;
};

// A model-local function (FunctionProto): nodes calling op_type `name` in `domain`
// expand to this body.
struct Function {
    std::string name;
    std::string domain;
    std::string overload;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::vector<std::string> attributes;         // attribute names without defaults
    std::vector<Attribute> attribute_defaults;   // attributes with default values
    std::vector<Node> nodes;
    std::vector<OpsetId> opset_import;
    std::vector<ValueInfo> value_info;
    std::string doc_string;
    StringMap metadata_props;
    bool operator==(const Function&) const = default;
};

struct ParseOptions {
    // Folder external data paths are relative to; empty = leave external tensors
    // unresolved (their paths and ranges are still checked). Model::open sets it.
    std::string base_dir;
    // Bound on nested graphs (If/Loop bodies in attributes) and nested types.
    int max_depth = 32;
};

class Model {
public:
    // Maps path and parses it; external data is resolved next to it.
    static Model open(const std::string& path);
    // Parses bytes owned by the caller (tests, fuzzing); they must outlive the Model.
    static Model parse(const uint8_t* data, size_t size, std::string name = "<memory>", ParseOptions opt = {});

    Model();
    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    const std::string& path() const { return name_; }
    size_t file_size() const { return size_; }
    // Files external data is read from (locations as written), in first-use order.
    const std::vector<std::string>& external_files() const { return external_locations_; }

    int64_t ir_version = 0;
    std::vector<OpsetId> opset_import;
    std::string producer_name;
    std::string producer_version;
    std::string domain;
    int64_t model_version = 0;
    std::string doc_string;
    Graph graph;
    StringMap metadata_props;
    std::vector<Function> functions;

    // Gives the pages of [p, p + n) back to the OS where they lie in one of its mapped files
    // (a weight the importer copied into a layout of its own); touched again, they are
    // read from the file again.
    void release(const void* p, size_t n) const;

    // Structural equality: metadata, graph, functions, tensors by value (not where the bytes live).
    bool same_as(const Model& o) const;

private:
    void parse_all(const uint8_t* data, size_t size, const ParseOptions& opt);

    std::string name_;
    size_t size_ = 0;
    std::unique_ptr<MappedFile> map_;
    std::vector<std::pair<std::string, std::shared_ptr<MappedFile>>> external_maps_;
    std::vector<std::string> external_locations_;
    friend class Parser;
};

// Parses one serialized TensorProto (the .pb files of ONNX's test data sets).
// External data in it is refused unless opt.base_dir is set.
Tensor parse_tensor(const uint8_t* data, size_t size, const ParseOptions& opt = {});

struct WriteOptions {
    // Initializers of at least this many bytes go to `external_file` beside the model
    // (0 = keep everything inline). Offsets are aligned to `external_alignment`.
    size_t external_threshold = 0;
    std::string external_file;   // default: "<model file name>.data"
    size_t external_alignment = 64;
};

// The ModelProto bytes, fields in number order with onnx.proto's (proto2) encodings: a
// model onnx wrote serializes back to the same bytes, except that empty strings onnx
// marks as set (a tensor named "") are left out. With an external threshold, the data
// of large initializers is appended to *external_bytes instead (which must then be
// non-null) and referenced by `location` = opt.external_file.
std::vector<uint8_t> serialize(const Model& m, const WriteOptions& opt = {}, std::vector<uint8_t>* external_bytes = nullptr);
std::vector<uint8_t> serialize_tensor(const Tensor& t);

// Builders for code that writes models (lmx export, lmx quantize).
Attribute int_attribute(std::string name, int64_t v);
Attribute float_attribute(std::string name, float v);
Attribute ints_attribute(std::string name, std::vector<int64_t> v);
Tensor owned_tensor(std::string name, DataType t, std::vector<int64_t> dims, std::vector<uint8_t> bytes);
// Writes path (and the external data file beside it when opt says so).
void save(const Model& m, const std::string& path, const WriteOptions& opt = {});

}  // namespace lmx::onnx
