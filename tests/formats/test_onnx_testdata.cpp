// Every model of ONNX's own backend test data (Debian package libonnx-testdata, ONNX
// 1.12: node, pytorch-converted, pytorch-operator, simple and real models) parses,
// and so does every TensorProto of its test_data_set_*/input_*.pb / output_*.pb whose
// graph value is a tensor. Skipped, loudly, when the package is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "formats/onnx.hpp"

namespace fs = std::filesystem;
namespace onnx = lmx::onnx;

namespace {

const fs::path kTestData = "/usr/share/libonnx-testdata/data";

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST(OnnxTestData, EveryModelAndTensorParses) {
    if (!fs::exists(kTestData)) GTEST_SKIP() << kTestData << " is absent: apt-get install libonnx-testdata";
    std::vector<fs::path> models;
    for (const auto& e : fs::recursive_directory_iterator(kTestData))
        if (e.is_regular_file() && e.path().filename() == "model.onnx") models.push_back(e.path());
    std::sort(models.begin(), models.end());
    ASSERT_GT(models.size(), 1000u);

    size_t tensors = 0, skipped_values = 0, unsupported = 0, identical = 0, identical_tensors = 0;
    std::vector<std::string> differing;
    for (const fs::path& path : models) {
        SCOPED_TRACE(path.string());
        onnx::Model m;
        try {
            m = onnx::Model::open(path.string());
        } catch (const lmx::Error& e) {
            // Sparse tensors are refused by design; anything else is a reader bug.
            if (std::string(e.what()).find("sparse") != std::string::npos) {
                ++unsupported;
                continue;
            }
            ADD_FAILURE() << e.what();
            continue;
        }
        EXPECT_FALSE(m.graph.nodes.empty());
        // The writer: read -> write -> read is the identity, and mostly byte-exact (onnx
        // writes empty strings it marks as set, which lmx leaves out).
        {
            const std::vector<uint8_t> original = read_file(path);
            const std::vector<uint8_t> out = onnx::serialize(m);
            onnx::Model again = onnx::Model::parse(out.data(), out.size(), "rewritten");
            EXPECT_TRUE(again.same_as(m));
            if (out == original) ++identical;
            else if (differing.size() < 5) differing.push_back(path.parent_path().filename().string());
        }
        // test_data_set_N/input_K.pb is the K-th graph input that is not an initializer.
        std::vector<const onnx::ValueInfo*> inputs;
        for (const onnx::ValueInfo& v : m.graph.inputs)
            if (!m.graph.initializer(v.name)) inputs.push_back(&v);
        for (const auto& set : fs::directory_iterator(path.parent_path())) {
            if (!set.is_directory() || set.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
            for (const auto& pb : fs::directory_iterator(set.path())) {
                const std::string f = pb.path().filename().string();
                const bool is_input = f.rfind("input_", 0) == 0;
                if (pb.path().extension() != ".pb" || (!is_input && f.rfind("output_", 0) != 0)) continue;
                const size_t k = std::stoul(f.substr(is_input ? 6 : 7));
                const onnx::ValueInfo* v = is_input ? (k < inputs.size() ? inputs[k] : nullptr)
                                                    : (k < m.graph.outputs.size() ? &m.graph.outputs[k] : nullptr);
                if (!v || v->type.kind != onnx::TypeProto::Kind::TENSOR) {
                    ++skipped_values;  // sequences, maps, optionals: not TensorProtos
                    continue;
                }
                const std::vector<uint8_t> b = read_file(pb.path());
                try {
                    onnx::Tensor t = onnx::parse_tensor(b.data(), b.size());
                    if (t.dtype != onnx::DataType::STRING) {
                        EXPECT_EQ(t.nbytes(), onnx::data_type_bytes(t.dtype, t.elements())) << f;
                    }
                    ++tensors;
                    if (onnx::serialize_tensor(t) == b) ++identical_tensors;
                } catch (const lmx::Error& e) {
                    ADD_FAILURE() << pb.path() << ": " << e.what();
                }
            }
        }
    }
    std::printf("[ onnx testdata ] %zu models, %zu tensors parsed; %zu non-tensor values skipped, %zu sparse models refused\n",
                models.size(), tensors, skipped_values, unsupported);
    std::string some;
    for (const std::string& d : differing) some += " " + d;
    std::printf("[ onnx testdata ] rewritten byte-exact: %zu of %zu models (differing, e.g.:%s), %zu of %zu tensors\n",
                identical, models.size(), some.c_str(), identical_tensors, tensors);
    EXPECT_GT(tensors, 2000u);
}
