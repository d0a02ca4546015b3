// ONNX writer: onnx::Model -> ModelProto bytes (and an external data file). Fields are
// written in field-number order, as protobuf's own serializer does; tensors keep the
// storage they were read with (raw_data or the typed field their dtype uses) unless
// WriteOptions moves them to external data.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "base/error.hpp"
#include "formats/onnx.hpp"
#include "formats/protobuf.hpp"

namespace lmx::onnx {

using protobuf::WireWriter;

namespace {

template <class T>
T load_le(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

class Writer {
public:
    Writer(std::vector<uint8_t>& out, const WriteOptions& opt, std::vector<uint8_t>* external)
        : w_(out), opt_(opt), external_(external) {}

    void model(const Model& m);
    void tensor(const Tensor& t, bool allow_external);

private:
    void graph(const Graph& g, bool top);
    void function(const Function& f);
    void node(const Node& n);
    void attribute(const Attribute& a);
    void value_info(const ValueInfo& v);
    void type(const TypeProto& t);
    void entries(uint32_t field, const StringMap& m);
    void typed_data(const Tensor& t);

    WireWriter w_;
    const WriteOptions& opt_;
    std::vector<uint8_t>* external_;
};

void Writer::entries(uint32_t field, const StringMap& m) {
    for (const auto& [k, v] : m) {
        const size_t at = w_.begin(field);
        w_.string(1, k);
        w_.string(2, v);
        w_.end(at);
    }
}

// The inverse of the reader's finish_typed: raw little-endian bytes -> typed field.
void Writer::typed_data(const Tensor& t) {
    const std::span<const uint8_t> b = t.bytes();
    switch (t.dtype) {
        case DataType::STRING:
            for (const std::string& s : t.strings) w_.string(6, s);
            return;
        case DataType::FLOAT: case DataType::COMPLEX64: {
            std::vector<float> v(b.size() / 4);
            if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * 4);
            w_.packed_float(4, v);
            return;
        }
        case DataType::DOUBLE: case DataType::COMPLEX128: {
            std::vector<double> v(b.size() / 8);
            if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * 8);
            w_.packed_double(10, v);
            return;
        }
        case DataType::INT64: {
            std::vector<int64_t> v(b.size() / 8);
            if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * 8);
            w_.packed_int64(7, v);
            return;
        }
        case DataType::UINT32: case DataType::UINT64: {
            const size_t w = t.dtype == DataType::UINT32 ? 4 : 8;
            std::vector<uint64_t> v(b.size() / w);
            for (size_t i = 0; i < v.size(); ++i)
                v[i] = w == 4 ? load_le<uint32_t>(b.data() + 4 * i) : load_le<uint64_t>(b.data() + 8 * i);
            w_.packed_uint64(11, v);
            return;
        }
        case DataType::FLOAT6E2M3: case DataType::FLOAT6E3M2:
            fail("tensor ", t.name, ": ", data_type_name(t.dtype), " cannot be written to int32_data; use raw_data");
        default: break;
    }
    std::vector<int32_t> v;
    switch (t.dtype) {
        case DataType::INT32:
            v.resize(b.size() / 4);
            if (!v.empty()) std::memcpy(v.data(), b.data(), b.size());
            break;
        case DataType::INT8:
            for (uint8_t x : b) v.push_back(static_cast<int8_t>(x));
            break;
        case DataType::INT16:
            for (size_t i = 0; i + 1 < b.size(); i += 2) v.push_back(load_le<int16_t>(b.data() + i));
            break;
        case DataType::UINT16: case DataType::FLOAT16: case DataType::BFLOAT16:
            for (size_t i = 0; i + 1 < b.size(); i += 2) v.push_back(load_le<uint16_t>(b.data() + i));
            break;
        default:  // one byte per value: uint8, bool, float8, packed sub-byte types
            for (uint8_t x : b) v.push_back(x);
            break;
    }
    w_.packed_int32(5, v);
}

// Fields go out in field-number order, as protobuf's serializer writes them.
void Writer::tensor(const Tensor& t, bool allow_external) {
    const std::span<const uint8_t> b = t.bytes();
    for (int64_t d : t.dims) w_.int64(1, d);  // onnx.proto is proto2: dims are not packed
    w_.int32(2, static_cast<int32_t>(t.dtype));
    const bool to_external = allow_external && external_ && opt_.external_threshold > 0 &&
                             t.dtype != DataType::STRING && b.size() >= opt_.external_threshold;
    // An external tensor never resolved (parsed from memory) keeps its reference.
    const bool keep_reference = !to_external && t.storage == Tensor::Storage::EXTERNAL && b.data() == nullptr;
    const bool typed = !to_external && !keep_reference && t.storage == Tensor::Storage::TYPED;
    const bool raw = !to_external && !keep_reference && !typed;
    // double_data (10) and uint64_data (11) follow name (8); the other typed fields precede it.
    const bool typed_late = t.dtype == DataType::DOUBLE || t.dtype == DataType::COMPLEX128 ||
                            t.dtype == DataType::UINT32 || t.dtype == DataType::UINT64;
    if (typed && !typed_late) typed_data(t);
    if (!t.name.empty()) w_.string(8, t.name);
    if (raw) w_.bytes(9, b.data(), b.size());
    if (typed && typed_late) typed_data(t);
    if (!t.doc_string.empty()) w_.string(12, t.doc_string);
    if (to_external) {
        const size_t align = opt_.external_alignment ? opt_.external_alignment : 1;
        external_->resize((external_->size() + align - 1) / align * align, 0);
        const size_t offset = external_->size();
        external_->insert(external_->end(), b.begin(), b.end());
        entries(13, {{"location", opt_.external_file}, {"offset", std::to_string(offset)}, {"length", std::to_string(b.size())}});
        w_.int32(14, 1);
    } else if (keep_reference) {
        entries(13, t.external_data);
        w_.int32(14, 1);
    }
    entries(16, t.metadata_props);
}

void Writer::type(const TypeProto& t) {
    using Kind = TypeProto::Kind;
    auto tensor_type = [&](uint32_t field) {
        const size_t at = w_.begin(field);
        if (t.elem_type != DataType::UNDEFINED) w_.int32(1, static_cast<int32_t>(t.elem_type));
        if (t.has_shape) {
            const size_t s = w_.begin(2);
            for (const Dim& d : t.shape) {
                const size_t m = w_.begin(1);
                if (d.value) w_.int64(1, *d.value);
                else if (!d.param.empty()) w_.string(2, d.param);
                if (!d.denotation.empty()) w_.string(3, d.denotation);
                w_.end(m);
            }
            w_.end(s);
        }
        w_.end(at);
    };
    auto element = [&](uint32_t field) {
        const size_t at = w_.begin(field);
        if (t.kind == Kind::MAP && t.key_type != DataType::UNDEFINED) w_.int32(1, static_cast<int32_t>(t.key_type));
        if (!t.elem.empty()) {
            const size_t e = w_.begin(t.kind == Kind::MAP ? 2 : 1);
            type(t.elem[0]);
            w_.end(e);
        }
        w_.end(at);
    };
    switch (t.kind) {
        case Kind::NONE: break;
        case Kind::TENSOR: tensor_type(1); break;
        case Kind::SEQUENCE: element(4); break;
        case Kind::MAP: element(5); break;
        case Kind::SPARSE_TENSOR:
        case Kind::OPTIONAL: break;  // fields 8 and 9 follow denotation (6)
    }
    if (!t.denotation.empty()) w_.string(6, t.denotation);
    if (t.kind == Kind::SPARSE_TENSOR) tensor_type(8);
    if (t.kind == Kind::OPTIONAL) element(9);
}

void Writer::value_info(const ValueInfo& v) {
    w_.string(1, v.name);
    if (v.type.kind != TypeProto::Kind::NONE || !v.type.denotation.empty()) {
        const size_t at = w_.begin(2);
        type(v.type);
        w_.end(at);
    }
    if (!v.doc_string.empty()) w_.string(3, v.doc_string);
    entries(4, v.metadata_props);
}

void Writer::attribute(const Attribute& a) {
    w_.string(1, a.name);
    // A reference to a function attribute (ref_attr_name) carries no value of its own.
    const AttrType t = a.ref_attr_name.empty() ? a.type : AttrType::UNDEFINED;
    if (t == AttrType::FLOAT) w_.float32(2, a.f);
    if (t == AttrType::INT) w_.int64(3, a.i);
    if (t == AttrType::STRING) w_.string(4, a.s);
    if (t == AttrType::TENSOR && !a.tensors.empty()) {
        const size_t at = w_.begin(5);
        tensor(a.tensors[0], false);
        w_.end(at);
    }
    if (t == AttrType::GRAPH && !a.graphs.empty()) {
        const size_t at = w_.begin(6);
        graph(a.graphs[0], false);
        w_.end(at);
    }
    // proto2 repeated scalars without [packed = true]: one field per value.
    if (t == AttrType::FLOATS)
        for (float x : a.floats) w_.float32(7, x);
    if (t == AttrType::INTS)
        for (int64_t x : a.ints) w_.int64(8, x);
    if (t == AttrType::STRINGS)
        for (const std::string& s : a.strings) w_.string(9, s);
    if (t == AttrType::TENSORS)
        for (const Tensor& x : a.tensors) {
            const size_t at = w_.begin(10);
            tensor(x, false);
            w_.end(at);
        }
    if (t == AttrType::GRAPHS)
        for (const Graph& g : a.graphs) {
            const size_t at = w_.begin(11);
            graph(g, false);
            w_.end(at);
        }
    if (!a.doc_string.empty()) w_.string(13, a.doc_string);
    if (t == AttrType::TYPE_PROTO && !a.type_protos.empty()) {
        const size_t at = w_.begin(14);
        type(a.type_protos[0]);
        w_.end(at);
    }
    if (t == AttrType::TYPE_PROTOS)
        for (const TypeProto& x : a.type_protos) {
            const size_t at = w_.begin(15);
            type(x);
            w_.end(at);
        }
    w_.int32(20, static_cast<int32_t>(a.type));
    if (!a.ref_attr_name.empty()) w_.string(21, a.ref_attr_name);
}

void Writer::node(const Node& n) {
    for (const std::string& s : n.inputs) w_.string(1, s);
    for (const std::string& s : n.outputs) w_.string(2, s);
    if (!n.name.empty()) w_.string(3, n.name);
    w_.string(4, n.op_type);
    for (const Attribute& a : n.attributes) {
        const size_t at = w_.begin(5);
        attribute(a);
        w_.end(at);
    }
    if (!n.doc_string.empty()) w_.string(6, n.doc_string);
    if (!n.domain.empty()) w_.string(7, n.domain);
    if (!n.overload.empty()) w_.string(8, n.overload);
    entries(9, n.metadata_props);
}

void Writer::graph(const Graph& g, bool top) {
    for (const Node& n : g.nodes) {
        const size_t at = w_.begin(1);
        node(n);
        w_.end(at);
    }
    w_.string(2, g.name);
    for (const Tensor& t : g.initializers) {
        const size_t at = w_.begin(5);
        tensor(t, top);
        w_.end(at);
    }
    if (!g.doc_string.empty()) w_.string(10, g.doc_string);
    auto infos = [&](uint32_t field, const std::vector<ValueInfo>& v) {
        for (const ValueInfo& x : v) {
            const size_t at = w_.begin(field);
            value_info(x);
            w_.end(at);
        }
    };
    infos(11, g.inputs);
    infos(12, g.outputs);
    infos(13, g.value_info);
    entries(16, g.metadata_props);
}

void Writer::model(const Model& m) {
    w_.int64(1, m.ir_version);
    if (!m.producer_name.empty()) w_.string(2, m.producer_name);
    if (!m.producer_version.empty()) w_.string(3, m.producer_version);
    if (!m.domain.empty()) w_.string(4, m.domain);
    if (m.model_version) w_.int64(5, m.model_version);
    if (!m.doc_string.empty()) w_.string(6, m.doc_string);
    const size_t at = w_.begin(7);
    graph(m.graph, true);
    w_.end(at);
    for (const OpsetId& o : m.opset_import) {
        const size_t s = w_.begin(8);
        w_.string(1, o.domain);
        w_.int64(2, o.version);
        w_.end(s);
    }
    entries(14, m.metadata_props);
    for (const Function& f : m.functions) {
        const size_t s = w_.begin(25);
        function(f);
        w_.end(s);
    }
}

void Writer::function(const Function& f) {
    w_.string(1, f.name);
    for (const std::string& s : f.inputs) w_.string(4, s);
    for (const std::string& s : f.outputs) w_.string(5, s);
    for (const std::string& s : f.attributes) w_.string(6, s);
    for (const Node& n : f.nodes) {
        const size_t at = w_.begin(7);
        node(n);
        w_.end(at);
    }
    if (!f.doc_string.empty()) w_.string(8, f.doc_string);
    for (const OpsetId& o : f.opset_import) {
        const size_t at = w_.begin(9);
        w_.string(1, o.domain);
        w_.int64(2, o.version);
        w_.end(at);
    }
    if (!f.domain.empty()) w_.string(10, f.domain);
    for (const Attribute& a : f.attribute_defaults) {
        const size_t at = w_.begin(11);
        attribute(a);
        w_.end(at);
    }
    for (const ValueInfo& v : f.value_info) {
        const size_t at = w_.begin(12);
        value_info(v);
        w_.end(at);
    }
    if (!f.overload.empty()) w_.string(13, f.overload);
    entries(14, f.metadata_props);
}

}  // namespace

std::vector<uint8_t> serialize(const Model& m, const WriteOptions& opt, std::vector<uint8_t>* external_bytes) {
    if (opt.external_threshold > 0 && (!external_bytes || opt.external_file.empty()))
        fail("serialize: external data needs an output buffer and a file name");
    std::vector<uint8_t> out;
    Writer w(out, opt, external_bytes);
    w.model(m);
    return out;
}

std::vector<uint8_t> serialize_tensor(const Tensor& t) {
    std::vector<uint8_t> out;
    WriteOptions opt;
    Writer w(out, opt, nullptr);
    w.tensor(t, false);
    return out;
}

namespace {

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!f) fail("cannot create '", path, "': ", std::strerror(errno));
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
        fail("cannot write '", path, "' (", bytes.size(), " bytes): ", std::strerror(errno));
    if (std::fclose(f.release()) != 0) fail("cannot write '", path, "': ", std::strerror(errno));
}

}  // namespace

void save(const Model& m, const std::string& path, const WriteOptions& opt) {
    WriteOptions o = opt;
    std::vector<uint8_t> external;
    if (o.external_threshold > 0 && o.external_file.empty())
        o.external_file = std::filesystem::path(path).filename().string() + ".data";
    std::vector<uint8_t> bytes = serialize(m, o, o.external_threshold > 0 ? &external : nullptr);
    if (o.external_threshold > 0 && !external.empty()) {
        const std::filesystem::path dir = std::filesystem::path(path).parent_path();
        write_file((dir / o.external_file).string(), external);
    }
    write_file(path, bytes);
}

}  // namespace lmx::onnx
