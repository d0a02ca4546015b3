#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "base/mapped_file.hpp"
#include "base/sha256.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "runtime/self_check.hpp"

namespace lmx::cli {

namespace {

using nlohmann::json;

struct InspectArgs {
    std::string model, verify_sha;
    bool as_json = false;
    int threads = 0;
};

json value_to_json(const gguf::Value& v) {
    using gguf::ValueType;
    switch (v.type) {
        case ValueType::STRING: return v.s;
        case ValueType::BOOL: return v.u != 0;
        case ValueType::FLOAT32:
        case ValueType::FLOAT64: return v.f;
        case ValueType::ARRAY: {
            json a = json::array();
            for (const gguf::Value& e : v.array) a.push_back(value_to_json(e));
            return a;
        }
        default: return v.is_integer() ? json(v.as_int()) : json(nullptr);
    }
}

// Short text of a metadata value for the human-readable listing.
std::string value_summary(const gguf::Value& v) {
    if (v.type == gguf::ValueType::ARRAY)
        return "[" + std::to_string(v.array.size()) + " x " + std::string(gguf::value_type_name(v.array_type)) + "]";
    std::string s = value_to_json(v).dump();
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
}

std::string hash_file(const std::string& path) {
    MappedFile f(path);
    Sha256 h;
    Progress progress("sha256", f.size());
    const size_t chunk = 8 << 20;
    for (size_t off = 0; off < f.size(); off += chunk) {
        size_t n = std::min(chunk, f.size() - off);
        h.update(f.data() + off, n);
        progress.update(off + n);
    }
    progress.done();
    return h.finish_hex();
}

}  // namespace

// cmd_inspect_onnx.cpp: the ONNX report (graph, ops, initializers, shape warnings).
void inspect_onnx(const std::string& path, bool as_json, json out);

namespace {

void run_inspect(const InspectArgs& a) {
    const std::string path = a.model.empty() ? default_model_path() : a.model;
    json out;
    if (!a.verify_sha.empty()) {
        const std::string got = hash_file(path);
        if (got != a.verify_sha) fail(path, ": SHA256 mismatch: file has ", got, ", expected ", a.verify_sha, " (re-download the model)");
        out["sha256"] = got;
    }
    if (path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0) return inspect_onnx(path, a.as_json, out);
    auto model = Model::load(path);
    const gguf::File& f = model->file();
    const models::DecoderConfig& c = model->config();

    out["path"] = path;
    out["gguf_version"] = f.version();
    out["file_bytes"] = f.file_size();
    json meta = json::object();
    for (const auto& [k, v] : f.metadata()) meta[k] = value_to_json(v);
    json tensors = json::array();
    for (const gguf::TensorInfo& t : f.tensors()) {
        tensors.push_back({{"name", t.name}, {"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape}, {"bytes", t.nbytes}});
    }
    out["architecture"] = {{"arch", c.arch}, {"layers", c.n_layers}, {"embedding", c.n_embd}, {"feed_forward", c.n_ff},
                           {"heads", c.n_heads}, {"kv_heads", c.n_kv_heads}, {"head_dim", c.head_dim}, {"rope_dims", c.n_rot},
                           {"rope_base", c.rope_base}, {"rms_eps", c.rms_eps}, {"vocab", c.n_vocab},
                           {"context_train", c.n_ctx_train}, {"tied_output", c.tied_output}};

    // Self-check: one forward pass over the BOS token (or token 0).
    const SelfCheck sc = self_check(model, a.threads);
    const double ms = sc.forward_ms;
    out["self_check"] = {{"input", "tokens i32[1]"}, {"output", "logits f32[1, " + std::to_string(c.n_vocab) + "]"},
                         {"isa", sc.isa}, {"cpu_features", cpu_features_string()},
                         {"threads", sc.n_threads}, {"forward_ms", ms}, {"load_ms", model->load_ms()},
                         {"kv_cache_bytes", sc.kv_bytes}, {"arena_bytes", sc.arena_bytes}};

    if (a.as_json) {
        out["metadata"] = meta;
        out["tensors"] = tensors;
        std::printf("%s\n", out.dump(1).c_str());
        return;
    }
    std::printf("%s: GGUF v%u, %zu bytes, %zu tensors\n", path.c_str(), f.version(), f.file_size(), f.tensors().size());
    if (out.contains("sha256")) std::printf("sha256 %s (verified)\n", out["sha256"].get<std::string>().c_str());
    std::printf("\nmetadata:\n");
    for (const auto& [k, v] : f.metadata()) std::printf("  %-45s %s\n", k.c_str(), value_summary(v).c_str());
    std::printf("\ntensors:\n");
    for (const gguf::TensorInfo& t : f.tensors()) {
        std::string shape;
        for (int64_t d : t.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
        std::printf("  %-32s %-5s %-16s %10zu bytes\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(), shape.c_str(), t.nbytes);
    }
    std::printf("\narchitecture: %s\n", out["architecture"].dump().c_str());
    std::printf("self-check: tokens i32[1] -> logits f32[1, %d] in %.2f ms; %d threads, %s kernels (cpu: %s)\n", c.n_vocab, ms,
                sc.n_threads, sc.isa.c_str(), cpu_features_string().c_str());
}

}  // namespace

void add_inspect(CLI::App& app) {
    auto a = std::make_shared<InspectArgs>();
    CLI::App* c = app.add_subcommand("inspect", "show a model's metadata, tensors and a timed self-check forward pass");
    c->add_option("model", a->model, "GGUF or ONNX model file (default: the installed SmolLM2-135M-Instruct)");
    c->add_flag("--json", a->as_json, "print JSON");
    c->add_option("--verify-sha", a->verify_sha, "recompute the file's SHA256 first and require this value");
    c->add_option("-t,--threads", a->threads, "threads for the self-check")->check(CLI::Range(0, 512));
    c->callback([a] { run_inspect(*a); });
}

}  // namespace lmx::cli
