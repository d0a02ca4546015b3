// ONNX reader against goldens from the `onnx` Python package (tools/gen_onnx_goldens.py):
// every model in tests/data/onnx/ reads back with the ops, attributes, types,
// initializer dims/dtypes/storage and value bytes (SHA-256) that onnx itself reads.
// Also: read -> write -> read round trips, and inspect's summary and warnings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "base/error.hpp"
#include "base/sha256.hpp"
#include "formats/onnx.hpp"
#include "formats/onnx_summary.hpp"

namespace onnx = lmx::onnx;
using nlohmann::json;

namespace {

const std::string kDir = LMX_SOURCE_DIR "/tests/data/onnx/";

json load_goldens() {
    std::ifstream f(kDir + "goldens.json");
    EXPECT_TRUE(f.good()) << "missing " << kDir << "goldens.json (run tools/gen_onnx_goldens.py)";
    return json::parse(f);
}

std::string hex(const std::string& s) {
    static constexpr char k[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += k[c >> 4];
        out += k[c & 15];
    }
    return out;
}

std::string storage_name(onnx::Tensor::Storage s) {
    switch (s) {
        case onnx::Tensor::Storage::RAW: return "raw";
        case onnx::Tensor::Storage::TYPED: return "typed";
        case onnx::Tensor::Storage::EXTERNAL: return "external";
    }
    return "?";
}

json dim_json(const onnx::Dim& d) {
    if (d.value) return *d.value;
    if (!d.param.empty()) return d.param;
    return nullptr;
}

json type_json(const onnx::TypeProto& t) {
    using K = onnx::TypeProto::Kind;
    switch (t.kind) {
        case K::TENSOR:
        case K::SPARSE_TENSOR: {
            json shape = nullptr;
            if (t.has_shape) {
                shape = json::array();
                for (const onnx::Dim& d : t.shape) shape.push_back(dim_json(d));
            }
            return {{"kind", t.kind == K::TENSOR ? "tensor" : "sparse_tensor"}, {"elem_type", static_cast<int>(t.elem_type)}, {"shape", shape}};
        }
        case K::SEQUENCE: return {{"kind", "sequence"}, {"elem", type_json(t.elem.at(0))}};
        case K::OPTIONAL: return {{"kind", "optional"}, {"elem", type_json(t.elem.at(0))}};
        case K::MAP: return {{"kind", "map"}, {"key_type", static_cast<int>(t.key_type)}, {"elem", type_json(t.elem.at(0))}};
        case K::NONE: break;
    }
    return {{"kind", "none"}};
}

json tensor_json(const onnx::Tensor& t) {
    json j = {{"name", t.name}, {"dtype", static_cast<int>(t.dtype)}, {"dims", t.dims}, {"storage", storage_name(t.storage)}};
    if (t.dtype == onnx::DataType::STRING) {
        json s = json::array();
        for (const std::string& x : t.strings) s.push_back(hex(x));
        j["strings"] = s;
        return j;
    }
    const auto b = t.bytes();
    j["nbytes"] = b.size();
    j["sha256"] = lmx::sha256_hex(b.data(), b.size());
    return j;
}

json graph_json(const onnx::Graph& g);

json attr_json(const onnx::Attribute& a) {
    using A = onnx::AttrType;
    json j = {{"name", a.name}, {"type", static_cast<int>(a.type)}};
    if (!a.ref_attr_name.empty()) {
        j["ref_attr_name"] = a.ref_attr_name;
        return j;
    }
    switch (a.type) {
        case A::FLOAT: j["f"] = a.f; break;
        case A::INT: j["i"] = a.i; break;
        case A::STRING: j["s"] = hex(a.s); break;
        case A::FLOATS: {
            json f = json::array();
            for (float x : a.floats) f.push_back(std::isfinite(x) ? json(x) : json(x > 0 ? "inf" : x < 0 ? "-inf" : "nan"));
            j["floats"] = f;
            break;
        }
        case A::INTS: j["ints"] = a.ints; break;
        case A::STRINGS: {
            json s = json::array();
            for (const std::string& x : a.strings) s.push_back(hex(x));
            j["strings"] = s;
            break;
        }
        case A::TENSOR:
        case A::TENSORS: {
            json t = json::array();
            for (const onnx::Tensor& x : a.tensors) t.push_back(tensor_json(x));
            j["tensors"] = t;
            break;
        }
        case A::GRAPH:
        case A::GRAPHS: {
            json g = json::array();
            for (const onnx::Graph& x : a.graphs) g.push_back(graph_json(x));
            j["graphs"] = g;
            break;
        }
        case A::TYPE_PROTO:
        case A::TYPE_PROTOS: {
            json t = json::array();
            for (const onnx::TypeProto& x : a.type_protos) t.push_back(type_json(x));
            j["type_protos"] = t;
            break;
        }
        default: break;
    }
    return j;
}

json values_json(const std::vector<onnx::ValueInfo>& v) {
    json out = json::array();
    for (const onnx::ValueInfo& x : v) out.push_back({{"name", x.name}, {"type", type_json(x.type)}});
    return out;
}

json nodes_json(const std::vector<onnx::Node>& v) {
    json nodes = json::array();
    for (const onnx::Node& n : v) {
        json attrs = json::array();
        for (const onnx::Attribute& a : n.attributes) attrs.push_back(attr_json(a));
        nodes.push_back({{"op_type", n.op_type}, {"domain", n.domain}, {"name", n.name}, {"inputs", n.inputs},
                         {"outputs", n.outputs}, {"attributes", attrs}});
    }
    return nodes;
}

json opsets_json(const std::vector<onnx::OpsetId>& v) {
    json out = json::array();
    for (const onnx::OpsetId& o : v) out.push_back({o.domain, o.version});
    return out;
}

json graph_json(const onnx::Graph& g) {
    json inits = json::array();
    for (const onnx::Tensor& t : g.initializers) inits.push_back(tensor_json(t));
    const json nodes = nodes_json(g.nodes);
    return {{"name", g.name}, {"inputs", values_json(g.inputs)}, {"outputs", values_json(g.outputs)},
            {"value_info", values_json(g.value_info)}, {"initializers", inits}, {"nodes", nodes}};
}

json model_json(const onnx::Model& m) {
    json props = json::array(), functions = json::array();
    for (const auto& [k, v] : m.metadata_props) props.push_back({k, v});
    for (const onnx::Function& f : m.functions) {
        json defaults = json::array();
        for (const onnx::Attribute& a : f.attribute_defaults) defaults.push_back(attr_json(a));
        functions.push_back({{"name", f.name}, {"domain", f.domain}, {"inputs", f.inputs}, {"outputs", f.outputs},
                             {"attributes", f.attributes}, {"attribute_defaults", defaults}, {"nodes", nodes_json(f.nodes)},
                             {"doc_string", f.doc_string}, {"opset_import", opsets_json(f.opset_import)}});
    }
    return {{"ir_version", m.ir_version}, {"producer_name", m.producer_name}, {"producer_version", m.producer_version},
            {"domain", m.domain}, {"model_version", m.model_version}, {"doc_string", m.doc_string},
            {"opset_import", opsets_json(m.opset_import)}, {"metadata_props", props}, {"graph", graph_json(m.graph)},
            {"functions", functions}};
}

// Float attributes: the JSON holds Python's double of the float32; compare as float32.
void normalize_floats(json& j) {
    if (j.is_object()) {
        if (j.contains("f") && j["f"].is_number()) j["f"] = static_cast<float>(j["f"].get<double>());
        for (auto& [k, v] : j.items()) normalize_floats(v);
    } else if (j.is_array()) {
        for (json& v : j) {
            if (v.is_number_float()) v = static_cast<float>(v.get<double>());
            else normalize_floats(v);
        }
    }
}

// The first differing path, for a readable failure.
std::string first_diff(const json& a, const json& b, const std::string& path = "") {
    if (a.type() != b.type() && !(a.is_number() && b.is_number())) return path + ": " + a.dump() + " vs " + b.dump();
    if (a.is_object()) {
        for (auto& [k, v] : b.items())
            if (!a.contains(k)) return path + "/" + k + ": missing in lmx";
        for (auto& [k, v] : a.items()) {
            if (!b.contains(k)) return path + "/" + k + ": missing in onnx";
            std::string d = first_diff(v, b[k], path + "/" + k);
            if (!d.empty()) return d;
        }
        return "";
    }
    if (a.is_array()) {
        if (a.size() != b.size()) return path + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " items";
        for (size_t i = 0; i < a.size(); ++i) {
            std::string d = first_diff(a[i], b[i], path + "/" + std::to_string(i));
            if (!d.empty()) return d;
        }
        return "";
    }
    return a == b ? "" : path + ": " + a.dump() + " vs " + b.dump();
}

// Where the bytes live (raw, typed, external) may change on writing; the values may not.
json without_storage(json j) {
    if (j.is_object()) {
        j.erase("storage");
        for (auto& [k, v] : j.items()) v = without_storage(v);
    } else if (j.is_array()) {
        for (json& v : j) v = without_storage(v);
    }
    return j;
}

}  // namespace

TEST(OnnxGoldens, EveryModelReadsAsOnnxReadsIt) {
    json g = load_goldens();
    ASSERT_GE(g["models"].size(), 7u);
    for (auto& [file, want] : g["models"].items()) {
        SCOPED_TRACE(file);
        onnx::Model m = onnx::Model::open(kDir + file);
        json got = model_json(m);
        json w = want;
        normalize_floats(got);
        normalize_floats(w);
        EXPECT_EQ(first_diff(got, w), "");
    }
}

TEST(OnnxGoldens, DtypesCoverTypedAndRawOfEveryType) {
    onnx::Model m = onnx::Model::open(kDir + "dtypes.onnx");
    for (const char* dt : {"float", "float16", "bfloat16", "double", "int8", "uint8", "int16", "uint16", "int32",
                           "int64", "uint32", "uint64", "bool", "int4", "uint4"}) {
        const onnx::Tensor* raw = m.graph.initializer(std::string("raw_") + dt);
        const onnx::Tensor* typed = m.graph.initializer(std::string("typed_") + dt);
        ASSERT_NE(raw, nullptr) << dt;
        ASSERT_NE(typed, nullptr) << dt;
        EXPECT_EQ(raw->storage, onnx::Tensor::Storage::RAW);
        EXPECT_EQ(typed->storage, onnx::Tensor::Storage::TYPED);
        EXPECT_EQ(onnx::data_type_name(raw->dtype), dt);
        EXPECT_EQ(raw->nbytes(), onnx::data_type_bytes(raw->dtype, raw->elements())) << dt;
    }
    // Same values in both forms where the generator gave both the same ones.
    for (const char* dt : {"int8", "uint8", "int16", "int32", "int64", "uint64", "bool", "int4", "bfloat16"}) {
        auto a = m.graph.initializer(std::string("raw_") + dt)->bytes();
        auto b = m.graph.initializer(std::string("typed_") + dt)->bytes();
        EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << dt;
    }
    // raw_data is zero-copy: it points into the mapped file.
    const onnx::Tensor* rf = m.graph.initializer("raw_float");
    EXPECT_EQ(rf->elements(), 6);
    const onnx::Tensor* i4 = m.graph.initializer("raw_int4");
    EXPECT_EQ(i4->nbytes(), 4u);  // 7 nibbles
    EXPECT_EQ(i4->bytes()[0], 0xf8);  // -8 (0x8) low, -1 (0xf) high
}

TEST(OnnxGoldens, ExternalDataIsMappedBesideTheModel) {
    onnx::Model m = onnx::Model::open(kDir + "external.onnx");
    ASSERT_EQ(m.external_files(), std::vector<std::string>{"external.onnx.data"});
    const onnx::Tensor* w = m.graph.initializer("ext_w");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->storage, onnx::Tensor::Storage::EXTERNAL);
    EXPECT_EQ(w->nbytes(), 4u * 8 * 4);
    EXPECT_EQ(m.graph.initializer("small_inline")->storage, onnx::Tensor::Storage::RAW);

    // From memory without a folder, the references stay unresolved but checked.
    std::ifstream f(kDir + "external.onnx", std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
    onnx::Model mem = onnx::Model::parse(bytes.data(), bytes.size());
    EXPECT_TRUE(mem.graph.initializer("ext_w")->bytes().empty());
    EXPECT_FALSE(mem.graph.initializer("ext_w")->has_data());
}

TEST(OnnxGoldens, SummaryReportsOpsDimsAndWarnings) {
    onnx::Model m = onnx::Model::open(kDir + "decoder.onnx");
    json s = onnx::summarize(m);
    EXPECT_EQ(s["op_histogram"]["com.microsoft::MatMulNBits"], 1);
    EXPECT_EQ(s["op_histogram"]["com.microsoft::GroupQueryAttention"], 1);
    EXPECT_EQ(s["op_histogram"]["Gather"], 1);
    EXPECT_EQ(s["inputs"][0]["name"], "input_ids");
    EXPECT_EQ(s["inputs"][0]["shape"], json({"batch_size", "sequence_length"}));
    EXPECT_EQ(s["inputs"][0]["dtype"], "int64");
    EXPECT_EQ(s["opset_import"][1]["domain"], "com.microsoft");
    EXPECT_EQ(s["producer"]["name"], "onnxruntime-genai-like");
    EXPECT_EQ(s["metadata"]["model_type"], "llama");
    EXPECT_EQ(s["initializers"]["count"], 4);
    EXPECT_EQ(s["initializers"]["by_dtype"]["uint8"]["bytes"], 32 * 8);
    EXPECT_TRUE(s["warnings"].empty()) << s["warnings"].dump();
    EXPECT_EQ(onnx::type_string(m.graph.outputs[0].type), "float[batch_size, sequence_length, 32]");

    onnx::Model st = onnx::Model::open(kDir + "static_batch.onnx");
    auto w = onnx::shape_warnings(st);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_NE(w[0].find("batch size 1"), std::string::npos) << w[0];
    EXPECT_NE(w[1].find("do not share the batch dim"), std::string::npos) << w[1];

    onnx::Model sub = onnx::Model::open(kDir + "subgraphs.onnx");
    json ss = onnx::summarize(sub);
    EXPECT_EQ(ss["subgraphs"], 5);  // then, else, loop body, inner then, inner else
    EXPECT_EQ(ss["op_histogram"]["Constant"], 4);
    EXPECT_EQ(onnx::summarize(onnx::Model::open(kDir + "external.onnx"))["external_data_files"][0], "external.onnx.data");

    json fs = onnx::summarize(onnx::Model::open(kDir + "functions.onnx"));
    EXPECT_EQ(fs["local_functions"], json({"lmx.fn::ScaledAdd"}));
    EXPECT_EQ(fs["op_histogram"]["lmx.fn::ScaledAdd"], 1);
    EXPECT_EQ(fs["op_histogram"]["Mul"], 1);  // inside the function body
}

// read -> write -> read gives equal structures, for every golden model; with
// LMX_ONNX_WRITE_DIR set, the written files are kept there for
// `tools/gen_onnx_goldens.py --check-written DIR` (onnx.checker + ONNX Runtime).
TEST(OnnxRoundTrip, ReadWriteReadIsIdentity) {
    const char* keep = std::getenv("LMX_ONNX_WRITE_DIR");
    const std::filesystem::path dir =
        keep ? std::filesystem::path(keep) : std::filesystem::temp_directory_path() / ("lmx_onnx_rt_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    json g = load_goldens();
    for (auto& [file, want] : g["models"].items()) {
        SCOPED_TRACE(file);
        onnx::Model a = onnx::Model::open(kDir + file);
        std::vector<uint8_t> bytes = onnx::serialize(a);
        onnx::Model b = onnx::Model::parse(bytes.data(), bytes.size(), "written");
        EXPECT_EQ(first_diff(without_storage(model_json(b)), without_storage(model_json(a))), "");
        // Without external data the structures are equal, storage included.
        if (a.external_files().empty()) {
            EXPECT_TRUE(a.same_as(b));
        }
        // Writing again gives the same bytes: the writer is deterministic.
        EXPECT_EQ(onnx::serialize(b), bytes);

        // With external data: large initializers go to a data file beside the model.
        const std::string out = (dir / ("ext__" + file)).string();
        onnx::save(a, out, {.external_threshold = 16, .external_file = "ext__" + file + ".data"});
        onnx::Model c = onnx::Model::open(out);
        json jc = without_storage(model_json(c)), ja = without_storage(model_json(a));
        EXPECT_EQ(first_diff(jc, ja), "");
        onnx::save(a, (dir / file).string());
    }
    if (!keep) std::filesystem::remove_all(dir);
}

// Fields in number order, proto2 encodings (unpacked dims and attribute lists, packed
// tensor data): the writer reproduces the bytes onnx's own protobuf serializer wrote.
TEST(OnnxRoundTrip, WriterReproducesOnnxBytes) {
    json g = load_goldens();
    for (auto& [file, want] : g["models"].items()) {
        SCOPED_TRACE(file);
        std::ifstream f(kDir + file, std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
        // From memory, external data stays a reference and is written back as one.
        const std::vector<uint8_t> out = onnx::serialize(onnx::Model::parse(bytes.data(), bytes.size()));
        size_t i = 0;
        while (i < std::min(out.size(), bytes.size()) && out[i] == bytes[i]) ++i;
        EXPECT_EQ(out.size(), bytes.size());
        EXPECT_EQ(i, bytes.size()) << "first difference at byte " << i;
    }
}

TEST(OnnxRoundTrip, LoneTensorProtos) {
    onnx::Model m = onnx::Model::open(kDir + "dtypes.onnx");
    for (const onnx::Tensor& t : m.graph.initializers) {
        std::vector<uint8_t> b = onnx::serialize_tensor(t);
        onnx::Tensor u = onnx::parse_tensor(b.data(), b.size());
        EXPECT_EQ(u, t) << t.name;
    }
}
