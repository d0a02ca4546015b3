// `lmx inspect model.onnx`: the graph's inputs/outputs with dtypes and symbolic dims,
// opset imports, producer, op histogram, initializer bytes by dtype, external data
// files, the ops lmx cannot run yet, and warnings about static shapes
// (formats/onnx_summary.hpp builds the report).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "formats/onnx.hpp"
#include "formats/onnx_summary.hpp"
#include "models/onnx/onnx_import.hpp"

namespace lmx::cli {

using nlohmann::json;

void inspect_onnx(const std::string& path, bool as_json, json out) {
    const auto t0 = std::chrono::steady_clock::now();
    const onnx::Model m = onnx::Model::open(path);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    json s = onnx::summarize(m);
    s["load_ms"] = ms;
    if (out.contains("sha256")) s["sha256"] = out["sha256"];
    s["lmx_unsupported_ops"] = models::unsupported_ops(m.graph);
    if (as_json) {
        std::printf("%s\n", s.dump(1).c_str());
        return;
    }
    std::printf("%s: ONNX IR v%lld, %zu bytes, producer %s %s; parsed in %.2f ms\n", path.c_str(),
                static_cast<long long>(m.ir_version), m.file_size(), m.producer_name.c_str(), m.producer_version.c_str(), ms);
    if (s.contains("sha256")) std::printf("sha256 %s (verified)\n", s["sha256"].get<std::string>().c_str());
    std::printf("opsets:");
    for (const json& o : s["opset_import"]) std::printf(" %s %lld", o["domain"].get<std::string>().c_str(), o["version"].get<long long>());
    std::printf("\n");
    if (!m.metadata_props.empty()) {
        std::printf("\nmetadata:\n");
        for (const auto& [k, v] : m.metadata_props) {
            std::string shown = v.size() > 80 ? v.substr(0, 77) + "..." : v;
            std::printf("  %-32s %s\n", k.c_str(), shown.c_str());
        }
    }
    auto values = [](const char* title, const json& list) {
        std::printf("\n%s:\n", title);
        for (const json& v : list) std::printf("  %-40s %s\n", v["name"].get<std::string>().c_str(), v["type"].get<std::string>().c_str());
    };
    values("inputs", s["inputs"]);
    values("outputs", s["outputs"]);
    std::printf("\nops (%zu nodes in the main graph, %lld subgraphs):\n", m.graph.nodes.size(), s["subgraphs"].get<long long>());
    for (const auto& [op, n] : s["op_histogram"].items()) std::printf("  %8lld  %s\n", n.get<long long>(), op.c_str());
    const json& init = s["initializers"];
    std::printf("\ninitializers: %lld, %llu bytes\n", init["count"].get<long long>(), init["bytes"].get<unsigned long long>());
    for (const auto& [dt, e] : init["by_dtype"].items())
        std::printf("  %-12s %8lld tensors %14llu bytes\n", dt.c_str(), e["count"].get<long long>(), e["bytes"].get<unsigned long long>());
    if (!m.external_files().empty()) {
        std::printf("external data:");
        for (const std::string& f : m.external_files()) std::printf(" %s", f.c_str());
        std::printf("\n");
    }
    if (!m.functions.empty()) {
        std::printf("local functions:");
        for (const json& f : s["local_functions"]) std::printf(" %s", f.get<std::string>().c_str());
        std::printf("\n");
    }
    if (s["lmx_unsupported_ops"].empty()) {
        std::printf("lmx runs every op of the main graph\n");
    } else {
        std::printf("ops lmx does not run yet:");
        for (const auto& [op, n] : s["lmx_unsupported_ops"].items()) std::printf(" %s (%lld)", op.c_str(), n.get<long long>());
        std::printf("\n");
    }
    for (const json& w : s["warnings"]) std::fprintf(stderr, "warning: %s\n", w.get<std::string>().c_str());
}

}  // namespace lmx::cli
