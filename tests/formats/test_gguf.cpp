// The GGUF reader on files synthesized by gguf_builder.hpp: every value type, the
// typed getters, alignment, and every validation error.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include "base/error.hpp"
#include "formats/gguf.hpp"
#include "gguf_builder.hpp"

namespace {

using namespace gguf_test;
using lmx::DType;
using lmx::gguf::File;
using lmx::gguf::Value;

File parse(const Bytes& b) { return File::parse(b.data(), b.size(), "test.gguf"); }

// Parsing b must throw an lmx::Error naming the file and containing every part.
void expect_error(const Bytes& b, std::initializer_list<std::string_view> parts) {
    try {
        parse(b);
        ADD_FAILURE() << "no error; expected one mentioning '" << *parts.begin() << "'";
    } catch (const lmx::Error& e) {
        std::string msg = e.what();
        EXPECT_EQ(msg.rfind("test.gguf: ", 0), 0u) << msg;
        for (std::string_view p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
}

template <class F>
void expect_throw_with(F&& f, std::string_view part) {
    try {
        f();
        ADD_FAILURE() << "no error; expected one mentioning '" << part << "'";
    } catch (const lmx::Error& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

template <class T>
Bytes enc(std::initializer_list<T> items) {
    Bytes b;
    for (T v : items) put(b, v);
    return b;
}

Bytes enc_strs(std::initializer_list<std::string_view> items) {
    Bytes b;
    for (std::string_view s : items) put_str(b, s);
    return b;
}

// A file with a bit of everything, used by the alignment and truncation tests.
GgufBuilder small_model() {
    GgufBuilder g;
    g.kv_str("general.architecture", "llama")
        .kv("llama.block_count", ValueType::UINT32, uint32_t{2})
        .kv("llama.rope.freq_base", ValueType::FLOAT32, 10000.0f)
        .kv("tokenizer.ggml.add_bos_token", ValueType::BOOL, uint8_t{1})
        .kv_array("tokenizer.ggml.tokens", ValueType::STRING, 3, enc_strs({"<s>", "a", "bc"}))
        .kv_array("tokenizer.ggml.scores", ValueType::FLOAT32, 2, enc<float>({0.5f, -1.0f}))
        .tensor("token_embd.weight", {32, 3}, DType::Q8_0)
        .tensor("output_norm.weight", {5}, DType::F32)
        .tensor("blk.0.attn_q.weight", {256, 2}, DType::Q4_K);
    return g;
}

TEST(Gguf, ScalarValuesRoundTrip) {
    GgufBuilder g;
    g.kv("u8", ValueType::UINT8, uint8_t{255})
        .kv("i8", ValueType::INT8, int8_t{-128})
        .kv("u16", ValueType::UINT16, uint16_t{65535})
        .kv("i16", ValueType::INT16, int16_t{-32768})
        .kv("u32", ValueType::UINT32, uint32_t{4294967295u})
        .kv("i32", ValueType::INT32, int32_t{std::numeric_limits<int32_t>::min()})
        .kv("f32", ValueType::FLOAT32, -0.125f)
        .kv("bool", ValueType::BOOL, uint8_t{1})
        .kv_str("str", "héllo\n")
        .kv_str("empty", "")
        .kv("u64", ValueType::UINT64, uint64_t{18446744073709551615u})
        .kv("i64", ValueType::INT64, std::numeric_limits<int64_t>::min())
        .kv("f64", ValueType::FLOAT64, 1e-310);
    Bytes b = g.build();
    File f = parse(b);
    EXPECT_EQ(f.version(), 3u);
    ASSERT_EQ(f.metadata().size(), 13u);
    EXPECT_EQ(f.metadata()[0].first, "u8");
    EXPECT_EQ(f.metadata()[12].first, "f64");
    EXPECT_TRUE(f.tensors().empty());

    EXPECT_EQ(f.find("u8")->type, ValueType::UINT8);
    EXPECT_EQ(f.get_int("u8"), 255);
    EXPECT_EQ(f.get_int("i8"), -128);
    EXPECT_EQ(f.get_int("u16"), 65535);
    EXPECT_EQ(f.get_int("i16"), -32768);
    EXPECT_EQ(f.get_int("u32"), 4294967295);
    EXPECT_EQ(f.get_int("i32"), std::numeric_limits<int32_t>::min());
    EXPECT_EQ(f.get_float("f32"), -0.125);
    EXPECT_TRUE(f.get_bool("bool"));
    EXPECT_EQ(f.get_string("str"), "héllo\n");
    EXPECT_EQ(f.get_string("empty"), "");
    EXPECT_EQ(f.find("u64")->u, 18446744073709551615u);
    EXPECT_EQ(f.get_int("i64"), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(f.get_float("f64"), 1e-310);
    EXPECT_EQ(f.find("f64")->type, ValueType::FLOAT64);
    EXPECT_EQ(f.get_float("u32"), 4294967295.0);  // integers widen to float
    EXPECT_EQ(f.get_float("i8"), -128.0);
}

TEST(Gguf, ArraysOfEveryTypeRoundTrip) {
    GgufBuilder g;
    g.kv_array("a.u8", ValueType::UINT8, 3, enc<uint8_t>({0, 7, 255}))
        .kv_array("a.i8", ValueType::INT8, 2, enc<int8_t>({-1, 1}))
        .kv_array("a.u16", ValueType::UINT16, 1, enc<uint16_t>({65535}))
        .kv_array("a.i16", ValueType::INT16, 2, enc<int16_t>({-300, 300}))
        .kv_array("a.u32", ValueType::UINT32, 2, enc<uint32_t>({1, 4000000000u}))
        .kv_array("a.i32", ValueType::INT32, 3, enc<int32_t>({3, -1, 2}))
        .kv_array("a.u64", ValueType::UINT64, 1, enc<uint64_t>({1ull << 40}))
        .kv_array("a.i64", ValueType::INT64, 1, enc<int64_t>({-(1ll << 40)}))
        .kv_array("a.f32", ValueType::FLOAT32, 2, enc<float>({0.5f, -2.0f}))
        .kv_array("a.f64", ValueType::FLOAT64, 2, enc<double>({1e100, -0.0}))
        .kv_array("a.bool", ValueType::BOOL, 3, enc<uint8_t>({1, 0, 1}))
        .kv_array("a.str", ValueType::STRING, 3, enc_strs({"x", "", "Ġyz"}))
        .kv_array("a.empty", ValueType::INT32, 0, {});
    // [[1, 2], []] of int32 and [["p"], ["q", "r"]] of strings.
    Bytes nested_ints = GgufBuilder::array_payload(ValueType::INT32, 2, enc<int32_t>({1, 2}));
    Bytes empty_ints = GgufBuilder::array_payload(ValueType::INT32, 0, {});
    nested_ints.insert(nested_ints.end(), empty_ints.begin(), empty_ints.end());
    g.kv_array("a.nested", ValueType::ARRAY, 2, nested_ints);
    Bytes nested_strs = GgufBuilder::array_payload(ValueType::STRING, 1, enc_strs({"p"}));
    Bytes qr = GgufBuilder::array_payload(ValueType::STRING, 2, enc_strs({"q", "r"}));
    nested_strs.insert(nested_strs.end(), qr.begin(), qr.end());
    g.kv_array("a.nested_str", ValueType::ARRAY, 2, nested_strs);
    Bytes b = g.build();
    File f = parse(b);

    EXPECT_EQ(f.get_int_array("a.u8"), (std::vector<int64_t>{0, 7, 255}));
    EXPECT_EQ(f.get_int_array("a.i8"), (std::vector<int64_t>{-1, 1}));
    EXPECT_EQ(f.get_int_array("a.u16"), (std::vector<int64_t>{65535}));
    EXPECT_EQ(f.get_int_array("a.i16"), (std::vector<int64_t>{-300, 300}));
    EXPECT_EQ(f.get_int_array("a.u32"), (std::vector<int64_t>{1, 4000000000}));
    EXPECT_EQ(f.get_int_array("a.i32"), (std::vector<int64_t>{3, -1, 2}));
    EXPECT_EQ(f.get_int_array("a.u64"), (std::vector<int64_t>{1ll << 40}));
    EXPECT_EQ(f.get_int_array("a.i64"), (std::vector<int64_t>{-(1ll << 40)}));
    EXPECT_EQ(f.get_float_array("a.f32"), (std::vector<double>{0.5, -2.0}));
    EXPECT_EQ(f.get_float_array("a.f64"), (std::vector<double>{1e100, -0.0}));
    EXPECT_TRUE(std::signbit(f.get_float_array("a.f64")[1]));
    EXPECT_EQ(f.get_float_array("a.i32"), (std::vector<double>{3, -1, 2}));
    const Value* bools = f.find("a.bool");
    ASSERT_NE(bools, nullptr);
    EXPECT_EQ(bools->array_type, ValueType::BOOL);
    ASSERT_EQ(bools->array.size(), 3u);
    EXPECT_EQ(bools->array[1].u, 0u);
    EXPECT_EQ(bools->array[2].as_int(), 1);
    EXPECT_EQ(f.get_string_array("a.str"), (std::vector<std::string>{"x", "", "Ġyz"}));
    EXPECT_TRUE(f.get_int_array("a.empty").empty());

    const Value* nested = f.find("a.nested");
    ASSERT_NE(nested, nullptr);
    EXPECT_EQ(nested->array_type, ValueType::ARRAY);
    ASSERT_EQ(nested->array.size(), 2u);
    EXPECT_EQ(nested->array[0].array_type, ValueType::INT32);
    ASSERT_EQ(nested->array[0].array.size(), 2u);
    EXPECT_EQ(nested->array[0].array[1].as_int(), 2);
    EXPECT_TRUE(nested->array[1].array.empty());
    const Value* nested_str = f.find("a.nested_str");
    ASSERT_NE(nested_str, nullptr);
    ASSERT_EQ(nested_str->array.size(), 2u);
    EXPECT_EQ(nested_str->array[1].array[1].s, "r");
}

TEST(Gguf, TypedGettersNameTheKeyAndTheProblem) {
    GgufBuilder g;
    g.kv_str("s", "text")
        .kv("big", ValueType::UINT64, uint64_t{1} << 63)
        .kv("flt", ValueType::FLOAT32, 1.0f)
        .kv("flag", ValueType::BOOL, uint8_t{0})
        .kv_array("floats", ValueType::FLOAT32, 1, enc<float>({1.0f}))
        .kv_array("bigs", ValueType::UINT64, 2, enc<uint64_t>({1, uint64_t{1} << 63}));
    Bytes b = g.build();
    File f = parse(b);

    expect_throw_with([&] { f.get_string("nope"); }, "test.gguf: required key 'nope' is missing");
    expect_throw_with([&] { f.get_int("s"); }, "key 's' is string, expected an integer");
    expect_throw_with([&] { f.get_int("flt"); }, "key 'flt' is float32, expected an integer");
    expect_throw_with([&] { f.get_int("big"); }, "9223372036854775808 does not fit in int64");
    expect_throw_with([&] { f.get_float("s"); }, "key 's' is string, expected a number");
    expect_throw_with([&] { f.get_bool("s"); }, "expected a bool");
    expect_throw_with([&] { f.get_string("flag"); }, "key 'flag' is bool, expected a string");
    expect_throw_with([&] { f.get_string_array("floats"); }, "key 'floats' is array of float32, expected an array of strings");
    expect_throw_with([&] { f.get_int_array("floats"); }, "expected an array of integers");
    expect_throw_with([&] { f.get_float_array("s"); }, "expected an array of numbers");
    expect_throw_with([&] { f.get_int_array("bigs"); }, "key 'bigs': element 1");
    expect_throw_with([&] { f.find("s")->as_int(); }, "a value of type string is not an integer");
    expect_throw_with([&] { f.find("floats")->as_float(); }, "a value of type array of float32 is not a number");

    EXPECT_FALSE(f.get_bool("flag"));
    EXPECT_EQ(f.get_string("absent", "dflt"), "dflt");
    EXPECT_EQ(f.get_int("absent", -7), -7);
    EXPECT_EQ(f.get_float("absent", 2.5), 2.5);
    EXPECT_TRUE(f.get_bool("absent", true));
    EXPECT_EQ(f.get_string("s", "dflt"), "text");
    expect_throw_with([&] { f.get_int("s", 0); }, "expected an integer");  // present but wrong type
    EXPECT_TRUE(f.has("s"));
    EXPECT_FALSE(f.has("absent"));
    EXPECT_EQ(f.find("absent"), nullptr);
}

TEST(Gguf, TensorInfosAndDefaultAlignment) {
    Bytes b = small_model().build();
    File f = parse(b);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.data_offset() % 32, 0u);
    ASSERT_EQ(f.tensors().size(), 3u);

    const lmx::gguf::TensorInfo* t = f.tensor("token_embd.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, DType::Q8_0);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{32, 3}));
    EXPECT_EQ(t->elements(), 96);
    EXPECT_EQ(t->offset, 0u);
    EXPECT_EQ(t->nbytes, 3u * 34);
    EXPECT_EQ(t->data, b.data() + f.data_offset());
    EXPECT_EQ(t->data[0], 1);  // the builder's fill pattern

    const lmx::gguf::TensorInfo* norm = f.tensor("output_norm.weight");
    ASSERT_NE(norm, nullptr);
    EXPECT_EQ(norm->offset, 128u);  // 102 bytes of token_embd, padded to 32
    EXPECT_EQ(norm->nbytes, 20u);
    EXPECT_EQ(norm->data, b.data() + f.data_offset() + 128);

    const lmx::gguf::TensorInfo* q = f.tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->nbytes, 2u * 144);
    EXPECT_EQ(q->data + q->nbytes, b.data() + b.size());
    EXPECT_EQ(f.tensor("missing"), nullptr);
}

TEST(Gguf, CustomAlignmentPlacesData) {
    for (uint32_t align : {1u, 8u, 64u, 4096u}) {
        GgufBuilder g;
        g.alignment = align;
        g.kv("general.alignment", ValueType::UINT32, align)
            .kv_str("pad", "abc")
            .tensor("a", {3}, DType::F32)
            .tensor("b", {32}, DType::Q4_0);
        Bytes b = g.build();
        File f = parse(b);
        EXPECT_EQ(f.alignment(), align);
        EXPECT_EQ(f.data_offset() % align, 0u);
        const auto& ts = f.tensors();
        ASSERT_EQ(ts.size(), 2u);
        EXPECT_EQ(ts[1].offset, (12 + align - 1) / align * align);
        EXPECT_EQ(ts[1].data, b.data() + f.data_offset() + ts[1].offset);
        EXPECT_EQ(ts[1].data + 18, b.data() + b.size());
    }
}

TEST(Gguf, VersionTwoIsRead) {
    GgufBuilder g = small_model();
    g.version = 2;
    Bytes b = g.build();
    EXPECT_EQ(parse(b).version(), 2u);
}

TEST(Gguf, RejectsBadAlignment) {
    for (uint32_t bad : {0u, 3u, 48u}) {
        GgufBuilder g;
        g.kv("general.alignment", ValueType::UINT32, bad);
        expect_error(g.build(), {"general.alignment", "non-zero power of two"});
    }
    GgufBuilder wrong_type;
    wrong_type.kv("general.alignment", ValueType::UINT64, uint64_t{32});
    expect_error(wrong_type.build(), {"general.alignment", "is uint64, expected uint32"});
}

TEST(Gguf, RejectsBadHeaders) {
    GgufBuilder magic;
    magic.magic = 0x4C4D5847;  // "GXML"
    expect_error(magic.build(), {"not a GGUF file"});
    GgufBuilder v1;
    v1.version = 1;
    expect_error(v1.build(), {"version 1 is not supported"});
    GgufBuilder v4;
    v4.version = 4;
    expect_error(v4.build(), {"unsupported GGUF version 4"});
    GgufBuilder big;
    big.version = 0x03000000;  // 3 written big-endian
    expect_error(big.build(), {"big-endian"});
    expect_error({}, {"truncated", "magic"});
}

TEST(Gguf, RejectsAbsurdCounts) {
    GgufBuilder tensors;
    tensors.tensor_count = uint64_t{1} << 60;
    expect_error(tensors.build(), {"tensor count", "cannot fit"});
    GgufBuilder kvs;
    kvs.kv_count = ~uint64_t{0};
    expect_error(kvs.build(), {"key/value count", "cannot fit"});
    GgufBuilder array;
    array.kv_array("tokenizer.ggml.tokens", ValueType::STRING, uint64_t{1} << 58, enc_strs({"a"}));
    expect_error(array.build(), {"'tokenizer.ggml.tokens'", "array length", "cannot fit"});
    // Each nested array needs at least 12 bytes: 2 of them cannot fit in 20.
    GgufBuilder nested;
    nested.kv_array("n", ValueType::ARRAY, 2, Bytes(20, 0));
    expect_error(nested.build(), {"'n'", "array length 2"});
}

// A corrupt length could make the reader walk megabytes of tensor data as array
// elements; the total element budget (2^22) stops it before memory balloons.
TEST(Gguf, LimitsTotalArrayElements) {
    const uint64_t n = (uint64_t{1} << 22) + 1;
    GgufBuilder g;
    g.kv_array("a", ValueType::UINT8, 2, Bytes(2, 0)).kv_array("b", ValueType::UINT8, n - 2, Bytes(n - 2, 0));
    expect_error(g.build(), {"'b'", "more than 4194304 elements"});
}

TEST(Gguf, RejectsStringsLongerThanTheFile) {
    GgufBuilder value;
    Bytes huge_len;
    put<uint64_t>(huge_len, 1000);
    huge_len.push_back('x');
    value.kv_raw("general.name", static_cast<uint32_t>(ValueType::STRING), huge_len);
    expect_error(value.build(), {"'general.name'", "claims 1000 bytes"});

    Bytes key;
    put<uint32_t>(key, 0x46554747);
    put<uint32_t>(key, 3);
    put<uint64_t>(key, 0);
    put<uint64_t>(key, 1);
    put<uint64_t>(key, ~uint64_t{0});  // key length
    key.resize(key.size() + 16, 'k');
    expect_error(key, {"metadata entry 0", "key length", "claims 18446744073709551615 bytes"});

    GgufBuilder name;
    name.tensor_raw(std::string(40, 'n'), {4}, 0, 0);
    Bytes b = name.build();
    b[24] = 0xff;  // tensor name length: first info starts right after the 24-byte header
    expect_error(b, {"tensor info 0", "tensor name length"});
}

TEST(Gguf, RejectsUnknownValueTypes) {
    GgufBuilder scalar;
    scalar.kv_raw("weird", 13, enc<uint32_t>({0}));
    expect_error(scalar.build(), {"'weird'", "unknown value type 13"});
    GgufBuilder element;
    element.kv_raw("weird.array", static_cast<uint32_t>(ValueType::ARRAY), enc<uint32_t>({99, 0, 0}));
    expect_error(element.build(), {"'weird.array'", "unknown value type 99"});
    GgufBuilder bad_bool;
    bad_bool.kv("flag", ValueType::BOOL, uint8_t{2});
    expect_error(bad_bool.build(), {"'flag'", "bool value is 2"});
}

TEST(Gguf, LimitsArrayNesting) {
    // 9 levels of one-element arrays around an empty int32 array.
    Bytes v = GgufBuilder::array_payload(ValueType::INT32, 0, {});
    for (int level = 0; level < 9; ++level) v = GgufBuilder::array_payload(ValueType::ARRAY, 1, v);
    GgufBuilder g;
    g.kv_raw("deep", static_cast<uint32_t>(ValueType::ARRAY), v);
    expect_error(g.build(), {"'deep'", "nested more than 8 deep"});
}

TEST(Gguf, RejectsDuplicates) {
    GgufBuilder keys;
    keys.kv_str("general.name", "a").kv_str("general.name", "b");
    expect_error(keys.build(), {"'general.name'", "duplicate key"});
    GgufBuilder tensors;
    tensors.tensor("w", {4}, DType::F32).tensor("w", {4}, DType::F32);
    expect_error(tensors.build(), {"tensor 'w'", "duplicate tensor name"});
}

TEST(Gguf, RejectsBadTensorInfos) {
    auto one = [](const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset = 0) {
        GgufBuilder g;
        g.tensor_raw("blk.0.w", dims, type, offset);
        Bytes b = g.build();
        b.resize((b.size() + 31) / 32 * 32 + 4096, 0);  // room for any data it claims
        return b;
    };
    expect_error(one({4}, 39), {"tensor 'blk.0.w'", "ggml type 39", "not support"});
    expect_error(one({}, 0), {"'blk.0.w'", "has 0 dimensions"});
    expect_error(one({1, 1, 1, 1, 1}, 0), {"'blk.0.w'", "has 5 dimensions"});
    expect_error(one({4, 0}, 0), {"'blk.0.w'", "dimension 1 is 0"});
    expect_error(one({4, ~uint64_t{0}}, 0), {"'blk.0.w'", "dimension 1 is -1"});
    expect_error(one({1ull << 32, 1ull << 32}, 0), {"'blk.0.w'", "element count overflows"});
    expect_error(one({48}, static_cast<uint32_t>(DType::Q4_0)), {"'blk.0.w'", "48 is not a multiple of the q4_0 block size 32"});
    expect_error(one({4}, 0, 16), {"'blk.0.w'", "offset 16 is not a multiple of the alignment 32"});
    expect_error(one({1024, 2}, 0), {"'blk.0.w'", "past the end of the file"});
    expect_error(one({4}, 0, uint64_t{1} << 63), {"'blk.0.w'", "past the end of the file"});
    // 2^62 f64 elements: fits int64 as a count, not as a byte size.
    expect_error(one({1ull << 31, 1ull << 31}, static_cast<uint32_t>(DType::F64)), {"'blk.0.w'", "overflows"});
}

TEST(Gguf, ErrorsNameTheFileAndEscapeBinaryNames) {
    GgufBuilder g;
    g.kv_str(std::string("bad\x01key"), "a").kv_str(std::string("bad\x01key"), "b");
    Bytes b = g.build();
    try {
        File::parse(b.data(), b.size(), "models/x.gguf");
        ADD_FAILURE() << "duplicate keys accepted";
    } catch (const lmx::Error& e) {
        EXPECT_EQ(std::string(e.what()), "models/x.gguf: key 'bad\\x01key': duplicate key");
    }
}

// Every proper prefix of a valid file must be rejected cleanly; under ASan this also
// proves no read goes past the bytes given.
TEST(Gguf, EveryTruncationThrows) {
    Bytes full = small_model().build();
    ASSERT_NO_THROW(parse(full));
    for (size_t n = 0; n < full.size(); ++n) {
        Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_THROW(parse(cut), lmx::Error) << "prefix of " << n << " of " << full.size() << " bytes";
    }
}

TEST(Gguf, OpenMissingFileNamesThePath) {
    expect_throw_with([] { File::open("/nonexistent/model.gguf"); }, "/nonexistent/model.gguf");
}

}  // namespace
