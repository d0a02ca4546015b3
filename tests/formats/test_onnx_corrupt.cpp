// ONNX reader on truncated, corrupted and hostile input: every failure is an lmx::Error
// naming the field, never a crash or an out-of-bounds read (the ASan build runs these
// too), and external data never leaves the model's folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "base/error.hpp"
#include "formats/onnx.hpp"
#include "formats/protobuf.hpp"

namespace onnx = lmx::onnx;
using lmx::protobuf::WireType;
using lmx::protobuf::WireWriter;

namespace {

const std::string kDir = LMX_SOURCE_DIR "/tests/data/onnx/";

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

// "" when bytes parse, else the error message.
std::string parse_error(const std::vector<uint8_t>& b, onnx::ParseOptions opt = {}) {
    try {
        onnx::Model::parse(b.data(), b.size(), "t.onnx", opt);
    } catch (const lmx::Error& e) {
        return e.what();
    }
    return "";
}

// A minimal valid model around one initializer.
onnx::Model model_with(onnx::Tensor t) {
    onnx::Model m;
    m.ir_version = 8;
    m.opset_import.push_back({"", 17});
    m.graph.name = "g";
    m.graph.initializers.push_back(std::move(t));
    return m;
}

onnx::Tensor external_tensor(const std::string& location, const std::string& offset = "0", const std::string& length = "16") {
    onnx::Tensor t;
    t.name = "w";
    t.dtype = onnx::DataType::FLOAT;
    t.dims = {4};
    t.storage = onnx::Tensor::Storage::EXTERNAL;
    t.external_data = {{"location", location}, {"offset", offset}, {"length", length}};
    return t;
}

// Hand-made ModelProto bytes: ir_version, one opset, and a graph holding `graph_body`.
std::vector<uint8_t> model_bytes(const std::vector<uint8_t>& graph_body) {
    std::vector<uint8_t> out;
    WireWriter w(out);
    w.int64(1, 8);
    w.bytes(7, graph_body.data(), graph_body.size());
    const size_t o = w.begin(8);
    w.string(1, "");
    w.int64(2, 17);
    w.end(o);
    return out;
}

// A graph body with one initializer built by fn.
template <class Fn>
std::vector<uint8_t> with_initializer(Fn fn) {
    std::vector<uint8_t> g;
    WireWriter w(g);
    const size_t at = w.begin(5);
    fn(w);
    w.end(at);
    return model_bytes(g);
}

class TempDir {
public:
    TempDir() : path_(std::filesystem::temp_directory_path() / ("lmx_onnx_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST(OnnxCorrupt, EveryPrefixOfEveryModelFailsCleanly) {
    for (const char* name : {"dtypes.onnx", "external.onnx", "subgraphs.onnx", "decoder.onnx", "attributes.onnx", "functions.onnx"}) {
        const std::vector<uint8_t> full = read_file(kDir + name);
        ASSERT_FALSE(full.empty()) << name;
        size_t failed = 0;
        for (size_t n = 0; n < full.size(); ++n) {
            std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            // A prefix ending on a field boundary may still be a valid (smaller) model.
            if (!parse_error(prefix).empty()) ++failed;
        }
        EXPECT_GT(failed, full.size() * 9 / 10) << name;
        EXPECT_EQ(parse_error(full), "") << name;
    }
}

TEST(OnnxCorrupt, FlippedBytesNeverCrash) {
    for (const char* name : {"dtypes.onnx", "subgraphs.onnx", "attributes.onnx"}) {
        const std::vector<uint8_t> full = read_file(kDir + name);
        for (size_t i = 0; i < full.size(); ++i) {
            for (uint8_t x : {uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x01}}) {
                std::vector<uint8_t> b = full;
                b[i] ^= x;
                (void)parse_error(b);  // parses or throws lmx::Error; ASan checks the rest
            }
        }
    }
}

TEST(OnnxCorrupt, ErrorsNameTheFieldAndTheFile) {
    EXPECT_NE(parse_error({}).find("empty"), std::string::npos);
    EXPECT_NE(parse_error({'h', 'e', 'l', 'l', 'o'}).find("t.onnx"), std::string::npos);
    // A LEN field claiming more bytes than the file holds.
    EXPECT_NE(parse_error({0x3a, 0xff, 0xff, 0x03}).find("claims"), std::string::npos);
    // An 11-byte varint.
    std::vector<uint8_t> v(12, 0xff);
    v.front() = 0x08;
    v.back() = 0x01;
    EXPECT_NE(parse_error(v).find("varint"), std::string::npos);
    // Wire type 7, and a group.
    EXPECT_NE(parse_error({0x0f, 0x00}).find("wire type 7"), std::string::npos);
    EXPECT_NE(parse_error({0x0b, 0x0c}).find("groups"), std::string::npos);
    // A field of the wrong wire type.
    EXPECT_NE(parse_error({0x0a, 0x00}).find("ir_version has wire type"), std::string::npos);
    // No graph.
    EXPECT_NE(parse_error({0x08, 0x08}).find("no graph"), std::string::npos);
}

TEST(OnnxCorrupt, HostileTensors) {
    // raw_data that does not match dims x dtype.
    std::string e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{2, 3});
        w.int32(2, 1);
        w.string(8, "w");
        w.bytes(9, "abcd", 4);
    }));
    EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
    EXPECT_NE(e.find("raw_data holds 4 bytes"), std::string::npos) << e;
    // dims whose product overflows.
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{int64_t{1} << 40, int64_t{1} << 40});
        w.int32(2, 1);
        w.bytes(9, "abcd", 4);
    }));
    EXPECT_NE(e.find("2^60"), std::string::npos) << e;
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{-3});
        w.int32(2, 1);
    }));
    EXPECT_NE(e.find("negative"), std::string::npos) << e;
    // Unknown data type, missing data type.
    e = parse_error(with_initializer([](WireWriter& w) { w.int32(2, 99); }));
    EXPECT_NE(e.find("not an ONNX data type"), std::string::npos) << e;
    e = parse_error(with_initializer([](WireWriter& w) { w.string(8, "x"); }));
    EXPECT_NE(e.find("data_type is missing"), std::string::npos) << e;
    // Typed data: wrong count, out-of-range int8, wrong field for the dtype.
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{3});
        w.int32(2, 1);
        w.packed_float(4, std::vector<float>{1, 2});
    }));
    EXPECT_NE(e.find("float_data holds 2 values"), std::string::npos) << e;
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{1});
        w.int32(2, 3);
        w.packed_int32(5, std::vector<int32_t>{300});
    }));
    EXPECT_NE(e.find("outside the range of int8"), std::string::npos) << e;
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{1});
        w.int32(2, 7);
        w.packed_float(4, std::vector<float>{1});
    }));
    EXPECT_NE(e.find("int64 tensors keep their values in int64_data"), std::string::npos) << e;
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{4});
        w.int32(2, 1);
    }));
    EXPECT_NE(e.find("has no data"), std::string::npos) << e;
    // Both raw and typed.
    e = parse_error(with_initializer([](WireWriter& w) {
        w.packed_int64(1, std::vector<int64_t>{1});
        w.int32(2, 1);
        w.packed_float(4, std::vector<float>{1});
        w.bytes(9, "abcd", 4);
    }));
    EXPECT_NE(e.find("both raw_data and typed"), std::string::npos) << e;
    // Packed floats with a partial element.
    e = parse_error(with_initializer([](WireWriter& w) {
        w.int32(2, 1);
        w.bytes(4, "abcde", 5);
    }));
    EXPECT_NE(e.find("not a multiple of 4"), std::string::npos) << e;
}

TEST(OnnxCorrupt, DeeplyNestedGraphsAreRefused) {
    // Graph bodies nested 100 deep through If attributes.
    std::vector<uint8_t> g;
    {
        WireWriter w(g);
        w.string(2, "leaf");
    }
    for (int i = 0; i < 100; ++i) {
        std::vector<uint8_t> outer;
        WireWriter w(outer);
        const size_t node = w.begin(1);
        w.string(4, "If");
        const size_t attr = w.begin(5);
        w.string(1, "then_branch");
        w.bytes(6, g.data(), g.size());
        w.int32(20, 5);
        w.end(attr);
        w.end(node);
        g = std::move(outer);
    }
    const std::string e = parse_error(model_bytes(g));
    EXPECT_NE(e.find("nested more than 32 deep"), std::string::npos) << e;
    // 20 deep is fine.
    onnx::ParseOptions opt;
    opt.max_depth = 200;
    EXPECT_EQ(parse_error(model_bytes(g), opt), "");
}

TEST(OnnxCorrupt, SparseTensorsAreRejectedClearly) {
    std::vector<uint8_t> g;
    WireWriter w(g);
    const size_t at = w.begin(15);
    w.end(at);
    const std::string e = parse_error(model_bytes(g));
    EXPECT_NE(e.find("sparse initializers are not supported"), std::string::npos) << e;
}

TEST(OnnxExternal, EscapingPathsAreRefused) {
    for (const char* loc : {"../secret.bin", "/etc/passwd", "a/../../x.bin", "..", "a\\..\\..\\x", "C:\\x"}) {
        const std::vector<uint8_t> b = onnx::serialize(model_with(external_tensor(loc)));
        const std::string e = parse_error(b);  // checked even without a folder to resolve against
        EXPECT_TRUE(e.find("leaves the model's folder") != std::string::npos || e.find("absolute path") != std::string::npos)
            << loc << ": " << e;
    }
    // A symbolic link inside the folder that points outside it.
    TempDir outside, dir;
    write_bytes(outside.path() / "secret.bin", std::vector<uint8_t>(16, 7));
    std::filesystem::create_symlink(outside.path() / "secret.bin", dir.path() / "link.bin");
    onnx::save(model_with(external_tensor("link.bin")), (dir.path() / "m.onnx").string());
    try {
        onnx::Model::open((dir.path() / "m.onnx").string());
        FAIL() << "a symlink out of the folder was followed";
    } catch (const lmx::Error& e) {
        EXPECT_NE(std::string(e.what()).find("outside the model's folder"), std::string::npos) << e.what();
    }
}

TEST(OnnxExternal, RangesAreBoundsChecked) {
    TempDir dir;
    write_bytes(dir.path() / "w.bin", std::vector<uint8_t>(20, 1));
    auto open_error = [&](onnx::Tensor t) -> std::string {
        onnx::save(model_with(std::move(t)), (dir.path() / "m.onnx").string());
        try {
            onnx::Model m = onnx::Model::open((dir.path() / "m.onnx").string());
            EXPECT_EQ(m.graph.initializers[0].nbytes(), 16u);
        } catch (const lmx::Error& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_EQ(open_error(external_tensor("w.bin", "4")), "");
    EXPECT_NE(open_error(external_tensor("w.bin", "8")).find("lies outside"), std::string::npos);
    EXPECT_NE(open_error(external_tensor("w.bin", "18446744073709551615")).find("lies outside"), std::string::npos);
    EXPECT_NE(open_error(external_tensor("w.bin", "0", "12")).find("'length' is 12 bytes"), std::string::npos);
    EXPECT_NE(open_error(external_tensor("w.bin", "-1")).find("non-negative decimal"), std::string::npos);
    EXPECT_NE(open_error(external_tensor("missing.bin")).find("cannot open"), std::string::npos);
    // Without a length the dims decide how much is read.
    onnx::Tensor t = external_tensor("w.bin", "2");
    t.external_data.pop_back();
    EXPECT_EQ(open_error(t), "");
}

TEST(OnnxExternal, WriterPutsLargeInitializersInADataFile) {
    TempDir dir;
    onnx::Tensor big;
    big.name = "big";
    big.dtype = onnx::DataType::FLOAT16;
    big.dims = {1000};
    big.set_owned(std::vector<uint8_t>(2000, 0x3c));
    onnx::Tensor small;
    small.name = "small";
    small.dtype = onnx::DataType::INT64;
    small.dims = {1};
    small.storage = onnx::Tensor::Storage::TYPED;
    small.set_owned(std::vector<uint8_t>(8, 0));
    onnx::Model m = model_with(big);
    m.graph.initializers.push_back(small);
    const std::string path = (dir.path() / "model.onnx").string();
    onnx::save(m, path, {.external_threshold = 1024, .external_alignment = 4096});
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "model.onnx.data"));
    EXPECT_LT(std::filesystem::file_size(path), 200u);
    onnx::Model r = onnx::Model::open(path);
    EXPECT_EQ(r.graph.initializer("big")->storage, onnx::Tensor::Storage::EXTERNAL);
    EXPECT_EQ(r.graph.initializer("small")->storage, onnx::Tensor::Storage::TYPED);
    auto b = r.graph.initializer("big")->bytes();
    ASSERT_EQ(b.size(), 2000u);
    EXPECT_EQ(b[1999], 0x3c);
    EXPECT_EQ(r.external_files(), std::vector<std::string>{"model.onnx.data"});
}
