// ONNX reader: ModelProto bytes -> onnx::Model (see onnx.hpp). Field numbers are
// onnx.proto's; unknown fields are skipped as protobuf requires, known fields are
// checked for their wire type and range.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>

#include "base/error.hpp"
#include "base/mapped_file.hpp"
#include "formats/onnx.hpp"
#include "formats/protobuf.hpp"

namespace lmx::onnx {

using protobuf::WireReader;
using protobuf::WireType;
using Bytes = std::span<const uint8_t>;

namespace {

// Every message becomes an object of up to a few hundred bytes; a hostile file of tiny
// messages could otherwise cost 100x its size. Real LLM exports hold ~10^5 messages.
constexpr uint64_t kMaxMessages = uint64_t{1} << 22;

DataType checked_data_type(int32_t v, const char* what) {
    if (v < 0 || v > kMaxDataType) fail(what, " is ", v, ", not an ONNX data type (0 to ", kMaxDataType, ")");
    return static_cast<DataType>(v);
}

// Typed data fields of a TensorProto, collected before the dtype is known.
struct TypedFields {
    std::vector<float> f32;
    std::vector<int32_t> i32;
    std::vector<int64_t> i64;
    std::vector<double> f64;
    std::vector<uint64_t> u64;
    int present = 0;  // bit per field: 1 float, 2 int32, 4 int64, 8 double, 16 uint64, 32 string
};

template <class T>
void put_le(std::vector<uint8_t>& out, T v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
}

uint64_t parse_decimal(std::string_view s, const char* key) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        fail("external data '", key, "' is ", shown(s), ", expected a non-negative decimal integer");
    return v;
}

// A relative path inside the model's folder: no root, no '..' component, no NUL.
void check_external_location(std::string_view loc) {
    if (loc.empty()) fail("external data has an empty 'location'");
    if (loc.find('\0') != std::string_view::npos) fail("external data location ", shown(loc), " contains a NUL byte");
    if (loc.front() == '/' || loc.front() == '\\' || (loc.size() > 1 && loc[1] == ':'))
        fail("external data location ", shown(loc),
             " is an absolute path; ONNX external data must be relative to the model's folder");
    size_t start = 0;
    while (start <= loc.size()) {
        size_t end = loc.find_first_of("/\\", start);
        if (end == std::string_view::npos) end = loc.size();
        if (loc.substr(start, end - start) == "..")
            fail("external data location ", shown(loc),
                 " leaves the model's folder ('..'); refusing to read it (move the data file beside the model)");
        start = end + 1;
    }
}

}  // namespace

class Parser {
public:
    Parser(Model* model, const ParseOptions& opt) : model_(model), opt_(opt) {}

    void model(Bytes b);
    Tensor tensor(Bytes b);

private:
    void count_message() {
        if (++messages_ > kMaxMessages)
            fail("more than ", kMaxMessages, " messages (nodes, tensors, attributes...); the file is corrupt or "
                 "not a model lmx can load");
    }

    // Every message is read through fields(): it counts against kMaxMessages, then
    // on_field(number, wire type, reader) reads or skips each field in turn.
    template <class OnField>
    void fields(Bytes b, OnField&& on_field) {
        count_message();
        WireReader r(b);
        r.for_each_field([&](uint32_t n, WireType t) { on_field(n, t, r); });
    }

    // A message that names itself in errors: whatever fails while reading its fields or
    // in check() afterwards is reported after context(), called only then so that it
    // can name what was read so far. The message count stays outside the context.
    struct NoCheck {
        void operator()() const {}
    };
    template <class Context, class OnField, class Check = NoCheck>
    void fields(Bytes b, Context&& context, OnField&& on_field, Check&& check = Check{}) {
        count_message();
        WireReader r(b);
        in_context(context, [&] {
            r.for_each_field([&](uint32_t n, WireType t) { on_field(n, t, r); });
            check();
        });
    }

    // Runs body; an Error from it is rethrown with context() and ": " in front (just the
    // error when context() is empty).
    template <class Context, class Body>
    static void in_context(Context&& context, Body&& body) {
        try {
            body();
        } catch (const Error& e) {
            const std::string what = context();
            fail(what, what.empty() ? "" : ": ", e.what());
        }
    }

    Graph graph(Bytes b, int depth);
    Node node(Bytes b, int depth);
    void node_into(std::vector<Node>& nodes, Bytes m, int depth);
    Attribute attribute(Bytes b, int depth);
    ValueInfo value_info(Bytes b, int depth);
    TypeProto type(Bytes b, int depth);
    void shape(Bytes b, std::vector<Dim>& dims);
    std::pair<std::string, std::string> entry(Bytes b, const char* what);
    OpsetId opset(Bytes b);
    Function function(Bytes b);
    void finish_typed(Tensor& t, TypedFields& f);
    void resolve_external(Tensor& t, size_t want);
    const MappedFile& external_file(const std::string& location);

    Model* model_;  // null when parsing a lone TensorProto
    const ParseOptions& opt_;
    uint64_t messages_ = 0;
    std::vector<std::pair<std::string, std::shared_ptr<MappedFile>>> lone_maps_;
};

// --- small messages -------------------------------------------------------------

std::pair<std::string, std::string> Parser::entry(Bytes b, const char* what) {
    std::pair<std::string, std::string> kv;
    fields(b, [&](uint32_t n, WireType t, WireReader& r) {
        if (n == 1) kv.first = r.text(t, what);
        else if (n == 2) kv.second = r.text(t, what);
        else r.skip(t, what);
    });
    return kv;
}

OpsetId Parser::opset(Bytes b) {
    OpsetId o;
    fields(b, [&](uint32_t n, WireType t, WireReader& r) {
        if (n == 1) o.domain = r.text(t, "opset_import.domain");
        else if (n == 2) o.version = r.int64(t, "opset_import.version");
        else r.skip(t, "opset_import field");
    });
    return o;
}

// --- types ----------------------------------------------------------------------

void Parser::shape(Bytes b, std::vector<Dim>& dims) {
    fields(b, [&](uint32_t n, WireType t, WireReader& r) {
        if (n != 1) return r.skip(t, "shape field");
        Dim dim;
        fields(r.message(t, "shape.dim"), [&](uint32_t m, WireType u, WireReader& d) {
            if (m == 1) {
                dim.value = d.int64(u, "dim_value");
                dim.param.clear();  // a oneof: the last one set wins
            } else if (m == 2) {
                dim.param = d.text(u, "dim_param");
                dim.value.reset();
            } else if (m == 3) {
                dim.denotation = d.text(u, "dim denotation");
            } else {
                d.skip(u, "dim field");
            }
        });
        if (dim.value && *dim.value < 0)
            fail("shape dim ", dims.size(), " has dim_value ", *dim.value, "; sizes cannot be negative");
        dims.push_back(std::move(dim));
    });
}

TypeProto Parser::type(Bytes b, int depth) {
    if (depth > opt_.max_depth) fail("types nested more than ", opt_.max_depth, " deep; the file is corrupt");
    TypeProto tp;
    fields(b, [&](uint32_t n, WireType t, WireReader& r) {
        switch (n) {
            case 1:    // tensor_type
            case 8:    // sparse_tensor_type
                tp = TypeProto{.kind = n == 1 ? TypeProto::Kind::TENSOR : TypeProto::Kind::SPARSE_TENSOR,
                               .denotation = std::move(tp.denotation)};
                fields(r.message(t, "tensor_type"), [&](uint32_t m, WireType u, WireReader& s) {
                    if (m == 1) {
                        tp.elem_type = checked_data_type(s.int32(u, "tensor_type.elem_type"), "tensor_type.elem_type");
                    } else if (m == 2) {
                        tp.has_shape = true;
                        shape(s.message(u, "tensor_type.shape"), tp.shape);
                    } else {
                        s.skip(u, "tensor_type field");
                    }
                });
                break;
            case 4:    // sequence_type
            case 9:    // optional_type
                tp = TypeProto{.kind = n == 4 ? TypeProto::Kind::SEQUENCE : TypeProto::Kind::OPTIONAL,
                               .denotation = std::move(tp.denotation)};
                fields(r.message(t, n == 4 ? "sequence_type" : "optional_type"),
                       [&](uint32_t m, WireType u, WireReader& s) {
                           if (m == 1) tp.elem.assign(1, type(s.message(u, "elem_type"), depth + 1));
                           else s.skip(u, "sequence_type field");
                       });
                break;
            case 5:  // map_type
                tp = TypeProto{.kind = TypeProto::Kind::MAP, .denotation = std::move(tp.denotation)};
                fields(r.message(t, "map_type"), [&](uint32_t m, WireType u, WireReader& s) {
                    if (m == 1) tp.key_type = checked_data_type(s.int32(u, "map_type.key_type"), "map_type.key_type");
                    else if (m == 2) tp.elem.assign(1, type(s.message(u, "map_type.value_type"), depth + 1));
                    else s.skip(u, "map_type field");
                });
                break;
            case 6: tp.denotation = r.text(t, "type denotation"); break;
            default: r.skip(t, "type field");
        }
    });
    return tp;
}

ValueInfo Parser::value_info(Bytes b, int depth) {
    ValueInfo v;
    fields(
        b, [&] { return v.name.empty() ? std::string("value") : "value " + shown(v.name); },
        [&](uint32_t n, WireType t, WireReader& r) {
            if (n == 1) v.name = r.text(t, "value_info.name");
            else if (n == 2) v.type = type(r.message(t, "value_info.type"), depth);
            else if (n == 3) v.doc_string = r.text(t, "value_info.doc_string");
            else if (n == 4) v.metadata_props.push_back(entry(r.message(t, "metadata_props"), "metadata_props"));
            else r.skip(t, "value_info field");
        });
    return v;
}

// --- tensors --------------------------------------------------------------------

Tensor Parser::tensor(Bytes b) {
    Tensor t;
    TypedFields typed;
    Bytes raw;
    bool has_raw = false, has_dtype = false;
    int32_t location = 0;
    auto context = [&] { return t.name.empty() ? std::string("tensor") : "tensor " + shown(t.name); };
    auto on_field = [&](uint32_t n, WireType w, WireReader& r) {
        switch (n) {
            case 1: r.repeated_int64(w, "dims", t.dims); break;
            case 2:
                t.dtype = checked_data_type(r.int32(w, "data_type"), "data_type");
                has_dtype = true;
                break;
            case 3: fail("segmented tensors (TensorProto.segment) are not supported; re-save the model with onnx");
            case 4: r.repeated_float(w, "float_data", typed.f32); typed.present |= 1; break;
            case 5: r.repeated_int32(w, "int32_data", typed.i32); typed.present |= 2; break;
            case 6:
                t.strings.emplace_back(r.text(w, "string_data"));
                typed.present |= 32;
                break;
            case 7: r.repeated_int64(w, "int64_data", typed.i64); typed.present |= 4; break;
            case 8: t.name = r.text(w, "name"); break;
            case 9:
                raw = r.message(w, "raw_data");
                has_raw = true;
                break;
            case 10: r.repeated_double(w, "double_data", typed.f64); typed.present |= 8; break;
            case 11: r.repeated_uint64(w, "uint64_data", typed.u64); typed.present |= 16; break;
            case 12: t.doc_string = r.text(w, "doc_string"); break;
            case 13: t.external_data.push_back(entry(r.message(w, "external_data"), "external_data")); break;
            case 14: location = r.int32(w, "data_location"); break;
            case 16: t.metadata_props.push_back(entry(r.message(w, "metadata_props"), "metadata_props")); break;
            default: r.skip(w, "tensor field");
        }
    };
    // With every field in: the dtype and dims, then where the values live.
    auto check = [&] {
        if (!has_dtype || t.dtype == DataType::UNDEFINED) fail("data_type is missing");
        for (size_t i = 0; i < t.dims.size(); ++i)
            if (t.dims[i] < 0) fail("dims[", i, "] is ", t.dims[i], "; tensor sizes cannot be negative");
        const int64_t n = t.elements();
        if (location != 0 && location != 1) fail("data_location is ", location, " (0 = DEFAULT, 1 = EXTERNAL)");
        const size_t want = t.dtype == DataType::STRING ? 0 : data_type_bytes(t.dtype, n);
        if (location == 1) {
            if (has_raw || typed.present) fail("data_location is EXTERNAL but the tensor also has inline data");
            if (t.dtype == DataType::STRING) fail("string tensors cannot use external data");
            t.storage = Tensor::Storage::EXTERNAL;
            resolve_external(t, want);
        } else if (!t.external_data.empty()) {
            fail("has external_data entries but data_location is not EXTERNAL");
        } else if (has_raw) {
            if (typed.present) fail("has both raw_data and typed data fields; a tensor holds its values once");
            if (t.dtype == DataType::STRING) fail("string tensors cannot use raw_data (use string_data)");
            if (raw.size() != want)
                fail("raw_data holds ", raw.size(), " bytes but dims ", n, " elements of ",
                     data_type_name(t.dtype), " need ", want, " bytes; the file is corrupt");
            t.storage = Tensor::Storage::RAW;
            t.set_view(raw);
        } else {
            t.storage = Tensor::Storage::TYPED;
            finish_typed(t, typed);
        }
    };
    fields(b, context, on_field, check);
    return t;
}

// Converts the typed field a dtype uses (TensorProto's comments) into raw_data's layout.
void Parser::finish_typed(Tensor& t, TypedFields& f) {
    const int64_t n = t.elements();
    const DataType dt = t.dtype;
    int field = 0;
    size_t count = 0, want = static_cast<size_t>(n);
    switch (dt) {
        case DataType::FLOAT: field = 1; count = f.f32.size(); break;
        case DataType::COMPLEX64: field = 1; count = f.f32.size(); want *= 2; break;
        case DataType::DOUBLE: field = 8; count = f.f64.size(); break;
        case DataType::COMPLEX128: field = 8; count = f.f64.size(); want *= 2; break;
        case DataType::INT64: field = 4; count = f.i64.size(); break;
        case DataType::UINT32: case DataType::UINT64: field = 16; count = f.u64.size(); break;
        case DataType::STRING: field = 32; count = t.strings.size(); break;
        case DataType::UINT4: case DataType::INT4: case DataType::FLOAT4E2M1:
            field = 2; count = f.i32.size(); want = data_type_bytes(dt, n); break;
        case DataType::UINT2: case DataType::INT2:
            field = 2; count = f.i32.size(); want = data_type_bytes(dt, n); break;
        case DataType::FLOAT6E2M3: case DataType::FLOAT6E3M2:
            if (f.present == 0 && n == 0) return;
            fail(data_type_name(dt), " values in int32_data are not supported; store them in raw_data");
        default: field = 2; count = f.i32.size(); break;
    }
    static constexpr const char* kFieldNames[] = {"float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data"};
    if (f.present & ~field) {
        const int other = std::countr_zero(static_cast<unsigned>(f.present & ~field));
        fail(data_type_name(dt), " tensors keep their values in ", kFieldNames[std::countr_zero(static_cast<unsigned>(field))],
             " or raw_data, but this one has ", kFieldNames[other]);
    }
    if (count != want) {
        if (f.present == 0) fail("has no data: dims give ", n, " elements of ", data_type_name(dt), " but no data field is set");
        fail(kFieldNames[std::countr_zero(static_cast<unsigned>(field))], " holds ", count, " values but dims give ", n,
             " elements of ", data_type_name(dt), " (", want, " values); the file is corrupt");
    }
    if (dt == DataType::STRING) return;
    std::vector<uint8_t> out;
    out.reserve(data_type_bytes(dt, n));
    auto small = [&](int64_t lo, int64_t hi, int bytes) {
        for (size_t i = 0; i < f.i32.size(); ++i) {
            const int32_t v = f.i32[i];
            if (v < lo || v > hi)
                fail("int32_data[", i, "] is ", v, ", outside the range of ", data_type_name(dt), " (", lo, " to ", hi, ")");
            if (bytes == 1) out.push_back(static_cast<uint8_t>(v));
            else put_le(out, static_cast<uint16_t>(v));
        }
    };
    switch (dt) {
        case DataType::FLOAT: case DataType::COMPLEX64:
            for (float v : f.f32) put_le(out, v);
            break;
        case DataType::DOUBLE: case DataType::COMPLEX128:
            for (double v : f.f64) put_le(out, v);
            break;
        case DataType::INT64:
            for (int64_t v : f.i64) put_le(out, v);
            break;
        case DataType::UINT64:
            for (uint64_t v : f.u64) put_le(out, v);
            break;
        case DataType::UINT32:
            for (size_t i = 0; i < f.u64.size(); ++i) {
                if (f.u64[i] > std::numeric_limits<uint32_t>::max())
                    fail("uint64_data[", i, "] is ", f.u64[i], ", outside the range of uint32");
                put_le(out, static_cast<uint32_t>(f.u64[i]));
            }
            break;
        case DataType::INT32:
            for (int32_t v : f.i32) put_le(out, v);
            break;
        case DataType::INT8: small(-128, 127, 1); break;
        case DataType::UINT8: small(0, 255, 1); break;
        case DataType::BOOL: small(0, 1, 1); break;
        case DataType::INT16: small(-32768, 32767, 2); break;
        case DataType::UINT16: small(0, 65535, 2); break;
        // Bit patterns: 16-bit floats as uint16 (some writers sign-extend them).
        case DataType::FLOAT16: case DataType::BFLOAT16: small(-32768, 65535, 2); break;
        // Float8 bit patterns, and sub-byte types packed into one byte per int32.
        default: small(-128, 255, 1); break;
    }
    t.set_owned(std::move(out));
}

const MappedFile& Parser::external_file(const std::string& location) {
    auto& maps = model_ ? model_->external_maps_ : lone_maps_;
    for (auto& [loc, map] : maps)
        if (loc == location) return *map;
    namespace fs = std::filesystem;
    const fs::path base = fs::path(opt_.base_dir.empty() ? "." : opt_.base_dir);
    const fs::path full = base / fs::path(location);
    // Symbolic links may still point outside the folder: compare the resolved paths.
    std::error_code ec;
    const fs::path real_base = fs::weakly_canonical(base, ec);
    const fs::path real = ec ? fs::path() : fs::weakly_canonical(full, ec);
    if (ec) fail("cannot resolve external data file ", shown(full.string()), ": ", ec.message());
    auto [bi, ri] = std::mismatch(real_base.begin(), real_base.end(), real.begin(), real.end());
    if (bi != real_base.end())
        fail("external data file ", shown(location), " resolves to ", shown(real.string()),
             ", outside the model's folder; refusing to read it");
    auto map = std::make_shared<MappedFile>(full.string());
    maps.emplace_back(location, map);
    return *map;
}

void Parser::resolve_external(Tensor& t, size_t want) {
    std::string location;
    uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (const auto& [k, v] : t.external_data) {
        if (k == "location") location = v;
        else if (k == "offset") offset = parse_decimal(v, "offset");
        else if (k == "length") {
            length = parse_decimal(v, "length");
            has_length = true;
        }
        // "checksum" and unknown keys are kept for the writer and not checked.
    }
    check_external_location(location);
    if (has_length && length != want)
        fail("external data 'length' is ", length, " bytes but dims give ", t.elements(), " elements of ",
             data_type_name(t.dtype), " (", want, " bytes)");
    if (model_ && std::find(model_->external_locations_.begin(), model_->external_locations_.end(), location) ==
                      model_->external_locations_.end())
        model_->external_locations_.push_back(location);
    if (opt_.base_dir.empty()) return;  // parsed from memory: nothing to map
    const MappedFile& f = external_file(location);
    if (offset > f.size() || want > f.size() - offset)
        fail("external data [", offset, ", ", offset + want, ") lies outside ", shown(location), " (",
             f.size(), " bytes); the data file is truncated or does not belong to this model");
    const Bytes data(f.data() + offset, want);
    if (model_) t.set_view(data);  // the model keeps the mapping
    else t.set_owned(std::vector<uint8_t>(data.begin(), data.end()));  // a lone tensor outlives the parser
}

// --- graph ----------------------------------------------------------------------

Attribute Parser::attribute(Bytes b, int depth) {
    Attribute a;
    int seen = 0;  // which single-value fields were set, to infer a missing type
    auto context = [&] { return "attribute " + (a.name.empty() ? std::string("(unnamed)") : shown(a.name)); };
    auto on_field = [&](uint32_t n, WireType t, WireReader& r) {
        switch (n) {
            case 1: a.name = r.text(t, "name"); break;
            case 2: a.f = r.float32(t, "f"); seen |= 1 << 1; break;
            case 3: a.i = r.int64(t, "i"); seen |= 1 << 2; break;
            case 4: a.s = r.text(t, "s"); seen |= 1 << 3; break;
            case 5: {
                Tensor x = tensor(r.message(t, "t"));
                a.tensors.assign(1, std::move(x));
                seen |= 1 << 4;
                break;
            }
            case 6:
                if (depth + 1 > opt_.max_depth)
                    fail("graphs nested more than ", opt_.max_depth, " deep (If/Loop bodies); the file is corrupt");
                a.graphs.assign(1, graph(r.message(t, "g"), depth + 1));
                seen |= 1 << 5;
                break;
            case 7: r.repeated_float(t, "floats", a.floats); seen |= 1 << 6; break;
            case 8: r.repeated_int64(t, "ints", a.ints); seen |= 1 << 7; break;
            case 9: a.strings.emplace_back(r.text(t, "strings")); seen |= 1 << 8; break;
            case 10: a.tensors.push_back(tensor(r.message(t, "tensors"))); seen |= 1 << 9; break;
            case 11:
                if (depth + 1 > opt_.max_depth)
                    fail("graphs nested more than ", opt_.max_depth, " deep (If/Loop bodies); the file is corrupt");
                a.graphs.push_back(graph(r.message(t, "graphs"), depth + 1));
                seen |= 1 << 10;
                break;
            case 13: a.doc_string = r.text(t, "doc_string"); break;
            case 14: a.type_protos.assign(1, type(r.message(t, "tp"), 0)); seen |= 1 << 13; break;
            case 15: a.type_protos.push_back(type(r.message(t, "type_protos"), 0)); seen |= 1 << 14; break;
            case 20: {
                const int32_t v = r.int32(t, "type");
                if (v < 0 || v > 14) fail("type is ", v, ", not an attribute type (0 to 14)");
                a.type = static_cast<AttrType>(v);
                break;
            }
            case 21: a.ref_attr_name = r.text(t, "ref_attr_name"); break;
            case 22: case 23:
                fail("sparse tensor attributes are not supported; make the tensor dense (onnx: numpy_helper "
                     "to_array on the sparse values) and re-save the model");
            default: r.skip(t, "attribute field");
        }
    };
    // With every field in: the type, inferred if missing, and the one value it holds.
    auto check = [&] {
        if (a.type == AttrType::UNDEFINED) {
            // IR version 1 files omit the type: infer it from the one field that is set.
            if (std::popcount(static_cast<unsigned>(seen)) != 1)
                fail("has no type and ", seen ? "several" : "no", " value fields; the file is corrupt");
            a.type = static_cast<AttrType>(std::countr_zero(static_cast<unsigned>(seen)));
        }
        if (!a.ref_attr_name.empty() && seen)
            fail("refers to function attribute ", shown(a.ref_attr_name), " and also has a value of its own");
        if (a.type == AttrType::SPARSE_TENSOR || a.type == AttrType::SPARSE_TENSORS)
            fail("sparse tensor attributes are not supported");
        if (seen & ~(1 << static_cast<int>(a.type)))
            fail("is of type ", attr_type_name(a.type), " but also sets the value field of type ",
                 attr_type_name(static_cast<AttrType>(std::countr_zero(static_cast<unsigned>(seen & ~(1 << static_cast<int>(a.type)))))),
                 "; an attribute holds one value");
        if (a.type == AttrType::TENSOR && a.tensors.size() != 1) fail("is a TENSOR attribute without a tensor (t)");
        if (a.type == AttrType::GRAPH && a.graphs.size() != 1) fail("is a GRAPH attribute without a graph (g)");
        if (a.type == AttrType::TYPE_PROTO && a.type_protos.size() != 1) fail("is a TYPE_PROTO attribute without tp");
    };
    fields(b, context, on_field, check);
    return a;
}

Node Parser::node(Bytes b, int depth) {
    Node nd;
    auto context = [&] {  // 'name' (domain::op_type), as far as they are known
        std::string what;
        if (!nd.name.empty()) what += shown(nd.name);
        if (!nd.op_type.empty()) what += (what.empty() ? "(" : " (") + (nd.domain.empty() ? "" : nd.domain + "::") + nd.op_type + ")";
        return what;
    };
    auto on_field = [&](uint32_t n, WireType t, WireReader& r) {
        switch (n) {
            case 1: nd.inputs.emplace_back(r.text(t, "input")); break;
            case 2: nd.outputs.emplace_back(r.text(t, "output")); break;
            case 3: nd.name = r.text(t, "name"); break;
            case 4: nd.op_type = r.text(t, "op_type"); break;
            case 5: nd.attributes.push_back(attribute(r.message(t, "attribute"), depth)); break;
            case 6: nd.doc_string = r.text(t, "doc_string"); break;
            case 7: nd.domain = r.text(t, "domain"); break;
            case 8: nd.overload = r.text(t, "overload"); break;
            case 9: nd.metadata_props.push_back(entry(r.message(t, "metadata_props"), "metadata_props")); break;
            default: r.skip(t, "node field");
        }
    };
    fields(b, context, on_field, [&] {
        if (nd.op_type.empty()) fail("op_type is missing");
    });
    return nd;
}

// Appends the node in m to nodes; errors name it by its index there.
void Parser::node_into(std::vector<Node>& nodes, Bytes m, int depth) {
    in_context([&] { return "node " + std::to_string(nodes.size()); }, [&] { nodes.push_back(node(m, depth)); });
}

Graph Parser::graph(Bytes b, int depth) {
    Graph g;
    {
        // A first pass over the tags sizes the node and initializer lists: growing them
        // one by one would move every node several times in a 10^5-node graph.
        // A corrupt graph stops the scan; the pass below reports it with its context.
        WireReader scan(b);
        size_t nodes = 0, inits = 0;
        try {
            scan.for_each_field([&](uint32_t n, WireType t) {
                nodes += n == 1;
                inits += n == 5;
                scan.skip(t, "graph field");
            });
        } catch (const Error&) {
        }
        g.nodes.reserve(nodes);
        g.initializers.reserve(inits);
    }
    fields(b, [&] { return "graph " + shown(g.name); }, [&](uint32_t n, WireType t, WireReader& r) {
        switch (n) {
            case 1: node_into(g.nodes, r.message(t, "node"), depth); break;
            case 2: g.name = r.text(t, "name"); break;
            case 5: g.initializers.push_back(tensor(r.message(t, "initializer"))); break;
            case 10: g.doc_string = r.text(t, "doc_string"); break;
            case 11: g.inputs.push_back(value_info(r.message(t, "input"), 0)); break;
            case 12: g.outputs.push_back(value_info(r.message(t, "output"), 0)); break;
            case 13: g.value_info.push_back(value_info(r.message(t, "value_info"), 0)); break;
            case 15:
                fail("sparse initializers are not supported; convert them to dense initializers "
                     "(onnx.numpy_helper) and re-save the model");
            case 16: g.metadata_props.push_back(entry(r.message(t, "metadata_props"), "metadata_props")); break;
            default: r.skip(t, "graph field");  // quantization_annotation...
        }
    });
    return g;
}

Function Parser::function(Bytes b) {
    Function f;
    auto context = [&] { return "function " + shown(f.domain.empty() ? f.name : f.domain + "::" + f.name); };
    fields(b, context, [&](uint32_t n, WireType t, WireReader& r) {
        switch (n) {
            case 1: f.name = r.text(t, "name"); break;
            case 4: f.inputs.emplace_back(r.text(t, "input")); break;
            case 5: f.outputs.emplace_back(r.text(t, "output")); break;
            case 6: f.attributes.emplace_back(r.text(t, "attribute")); break;
            case 7: node_into(f.nodes, r.message(t, "node"), 0); break;
            case 8: f.doc_string = r.text(t, "doc_string"); break;
            case 9: f.opset_import.push_back(opset(r.message(t, "opset_import"))); break;
            case 10: f.domain = r.text(t, "domain"); break;
            case 11: f.attribute_defaults.push_back(attribute(r.message(t, "attribute_proto"), 0)); break;
            case 12: f.value_info.push_back(value_info(r.message(t, "value_info"), 0)); break;
            case 13: f.overload = r.text(t, "overload"); break;
            case 14: f.metadata_props.push_back(entry(r.message(t, "metadata_props"), "metadata_props")); break;
            default: r.skip(t, "function field");
        }
    });
    return f;
}

void Parser::model(Bytes b) {
    bool has_graph = false;
    fields(b, [&](uint32_t n, WireType t, WireReader& r) {
        switch (n) {
            case 1: model_->ir_version = r.int64(t, "ir_version"); break;
            case 2: model_->producer_name = r.text(t, "producer_name"); break;
            case 3: model_->producer_version = r.text(t, "producer_version"); break;
            case 4: model_->domain = r.text(t, "domain"); break;
            case 5: model_->model_version = r.int64(t, "model_version"); break;
            case 6: model_->doc_string = r.text(t, "doc_string"); break;
            case 7:
                if (has_graph) fail("the model has two graph fields; the file is corrupt");
                model_->graph = graph(r.message(t, "graph"), 0);
                has_graph = true;
                break;
            case 8: model_->opset_import.push_back(opset(r.message(t, "opset_import"))); break;
            case 14: model_->metadata_props.push_back(entry(r.message(t, "metadata_props"), "metadata_props")); break;
            case 25: model_->functions.push_back(function(r.message(t, "functions"))); break;
            default: r.skip(t, "model field");  // training_info, configuration...
        }
    });
    if (!has_graph)
        fail("no graph: this is not an ONNX model (or it is truncated); an ONNX file starts with a ModelProto");
    if (model_->ir_version <= 0) fail("ir_version is ", model_->ir_version, "; not an ONNX model");
    if (model_->opset_import.empty() && model_->ir_version >= 3)
        fail("no opset_import: the model does not say which operator set it uses; re-export it");
}

// --- public API -----------------------------------------------------------------

Model::Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::open(const std::string& path) {
    Model m;
    m.name_ = path;
    m.map_ = std::make_unique<MappedFile>(path);
    ParseOptions opt;
    opt.base_dir = std::filesystem::path(path).parent_path().string();
    if (opt.base_dir.empty()) opt.base_dir = ".";
    m.parse_all(m.map_->data(), m.map_->size(), opt);
    return m;
}

void Model::release(const void* p, size_t n) const {
    if (map_) map_->release(p, n);
    for (const auto& [location, map] : external_maps_) map->release(p, n);
}

Model Model::parse(const uint8_t* data, size_t size, std::string name, ParseOptions opt) {
    Model m;
    m.name_ = std::move(name);
    m.parse_all(data, size, opt);
    return m;
}

void Model::parse_all(const uint8_t* data, size_t size, const ParseOptions& opt) {
    size_ = size;
    try {
        if (size == 0) fail("the file is empty");
        Parser p(this, opt);
        p.model(Bytes(data, size));
    } catch (const Error& e) {
        fail(name_, ": ", e.what());
    }
}


Tensor parse_tensor(const uint8_t* data, size_t size, const ParseOptions& opt) {
    Parser p(nullptr, opt);
    return p.tensor(Bytes(data, size));
}

}  // namespace lmx::onnx
