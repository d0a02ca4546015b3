#include "models/onnx/quantize.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

// The arithmetic below reproduces onnxruntime bit for bit, so it must stay plain IEEE
// float operations in this order: the build never enables FMA contraction for this file
// (no -march, and ISO C++ mode keeps -ffp-contract=off on GCC).

namespace lmx::models {

namespace {

using onnx::AttrType;
using onnx::DataType;

constexpr const char* kMs = "com.microsoft";

template <class T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
    std::vector<uint8_t> b(v.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
}

// Two 4-bit values a byte, the first in the low nibble; an odd count pads a zero nibble.
std::vector<uint8_t> pack_nibbles(const std::vector<uint8_t>& v) {
    std::vector<uint8_t> out((v.size() + 1) / 2, 0);
    for (size_t i = 0; i < v.size(); i++) out[i / 2] |= static_cast<uint8_t>((v[i] & 0xF) << (i % 2 * 4));
    return out;
}

bool is_candidate(const onnx::Tensor& t) { return t.dtype == DataType::FLOAT && t.dims.size() == 2; }

std::vector<float> read_floats(const onnx::Tensor& t) {
    if (!t.has_data()) fail("initializer '", t.name, "' has no data (external data not found?)");
    const std::span<const uint8_t> b = t.bytes();
    std::vector<float> v(static_cast<size_t>(t.elements()));
    if (b.size() != v.size() * sizeof(float)) fail("initializer '", t.name, "' holds ", b.size(), " bytes, expected ", v.size() * sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), b.data(), b.size());
    return v;
}

struct Quantized {
    std::vector<uint8_t> data;
    std::vector<float> scales;
    std::vector<uint8_t> zero_points;  // packed; empty when symmetric
};

// MatMulNBits' layout, as onnxruntime's MLAS BlockwiseQuantizer (columnwise, 4 bits)
// computes it for quantize_matmul_4bits: each column n of w [K, N] in blocks of bs rows;
// data [N, k_blocks, bs/2], scales [N, k_blocks], zero points [N, ceil(k_blocks/2)].
Quantized quantize_columns(const std::vector<float>& w, int64_t K, int64_t N, int64_t bs, bool symmetric) {
    const int64_t kb = (K + bs - 1) / bs, blob = bs / 2, zp_row = (kb + 1) / 2;
    Quantized q;
    q.data.assign(static_cast<size_t>(N * kb * blob), 0);
    q.scales.resize(static_cast<size_t>(N * kb));
    if (!symmetric) q.zero_points.resize(static_cast<size_t>(N * zp_row));
    std::vector<uint8_t> col(static_cast<size_t>(K)), zps(static_cast<size_t>(kb));
    for (int64_t n = 0; n < N; n++) {
        for (int64_t b = 0; b < kb; b++) {
            const int64_t r0 = b * bs, r1 = std::min(K, r0 + bs);
            float mn = FLT_MAX, mx = -FLT_MAX;
            for (int64_t i = r0; i < r1; i++) {
                const float v = w[static_cast<size_t>(i * N + n)];
                if (v < mn) mn = v;
                if (v > mx) mx = v;
            }
            float scale;
            uint8_t zp = 8;  // symmetric: the middle of [0, 15]
            if (symmetric) {
                // The value of larger magnitude maps to -8, the end with more room.
                scale = -(std::fabs(mx) > std::fabs(mn) ? mx : mn) / 8.0f;
            } else {
                mn = std::min(mn, 0.0f);
                mx = std::max(mx, 0.0f);
                scale = (mx - mn) / 15.0f;
                const float zf = scale != 0.0f ? 0.0f - mn / scale : mn;
                zp = zf < 0.0f ? 0 : zf > 15.0f ? 15 : static_cast<uint8_t>(std::roundf(zf));
            }
            q.scales[static_cast<size_t>(n * kb + b)] = scale;
            zps[static_cast<size_t>(b)] = zp;
            const float recip = scale != 0.0f ? 1.0f / scale : 0.0f;
            for (int64_t i = r0; i < r1; i++) {
                const float x = std::roundf(w[static_cast<size_t>(i * N + n)] * recip + static_cast<float>(zp));
                col[static_cast<size_t>(i)] = std::isnan(x) ? 0 : static_cast<uint8_t>(std::clamp(x, 0.0f, 15.0f));
            }
        }
        uint8_t* dst = q.data.data() + n * kb * blob;
        for (int64_t i = 0; i < K; i += 2) {
            // An odd K leaves the last high nibble to MLAS's scratch: the previous row's
            // value, or 0 when that row starts its work unit (two blocks of one column).
            const uint8_t hi = i + 1 < K ? col[static_cast<size_t>(i + 1)] : i % (2 * bs) == 0 ? 0 : col[static_cast<size_t>(i - 1)];
            dst[i / 2] = static_cast<uint8_t>(col[static_cast<size_t>(i)] | hi << 4);
        }
        if (!symmetric) {
            // A missing second block of a pair keeps MLAS's initial zero point, 8.
            for (int64_t t = 0; t < zp_row; t++) {
                const uint8_t hi = 2 * t + 1 < kb ? zps[static_cast<size_t>(2 * t + 1)] : 8;
                q.zero_points[static_cast<size_t>(n * zp_row + t)] = static_cast<uint8_t>(zps[static_cast<size_t>(2 * t)] | hi << 4);
            }
        }
    }
    return q;
}

// GatherBlockQuantized's layout, as onnxruntime's numpy code (quantize_ndarray) computes
// it with quantize_axis 1: each row of w [rows, cols] in blocks of bs columns, numpy's
// round-half-to-even; data keeps w's shape as int4 (symmetric) or uint4 nibbles.
Quantized quantize_rows(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t bs, bool symmetric) {
    const int64_t kb = (cols + bs - 1) / bs;
    std::vector<uint8_t> values(w.size()), zps;
    Quantized q;
    q.scales.resize(static_cast<size_t>(rows * kb));
    if (!symmetric) zps.resize(q.scales.size());
    const auto round_clip = [](float x, float lo, float hi) { return std::isnan(x) ? 0.0f : std::clamp(std::nearbyint(x), lo, hi); };
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t b = 0; b < kb; b++) {
            const size_t c0 = static_cast<size_t>(r * cols + b * bs), c1 = static_cast<size_t>(r * cols + std::min(cols, (b + 1) * bs));
            float mn = w[c0], mx = w[c0];
            for (size_t i = c0; i < c1; i++) {
                mn = std::min(mn, w[i]);
                mx = std::max(mx, w[i]);
            }
            const size_t s = static_cast<size_t>(r * kb + b);
            if (symmetric) {
                const float scale = (std::fabs(mx) > std::fabs(mn) ? mx : mn) / -8.0f;
                q.scales[s] = scale;
                for (size_t i = c0; i < c1; i++) {
                    const float v = scale == 0.0f ? 0.0f : round_clip(w[i] / scale, -8.0f, 7.0f);
                    values[i] = static_cast<uint8_t>(static_cast<int8_t>(v));
                }
            } else {
                mn = std::min(mn, 0.0f);
                mx = std::max(mx, 0.0f);
                const float scale = (mx - mn) / 15.0f;
                const float zp = scale == 0.0f ? 8.0f : round_clip(-mn / scale, 0.0f, 15.0f);
                q.scales[s] = scale;
                zps[s] = static_cast<uint8_t>(zp);
                for (size_t i = c0; i < c1; i++) values[i] = static_cast<uint8_t>(scale == 0.0f ? 8.0f : round_clip(w[i] / scale + zp, 0.0f, 15.0f));
            }
        }
    }
    q.data = pack_nibbles(values);
    if (!symmetric) q.zero_points = pack_nibbles(zps);
    return q;
}

bool has_subgraphs(const onnx::Node& n) {
    return std::any_of(n.attributes.begin(), n.attributes.end(),
                       [](const onnx::Attribute& a) { return a.type == AttrType::GRAPH || a.type == AttrType::GRAPHS; });
}

// onnxruntime rebuilds a node holding subgraphs with onnx.helper.make_node: attributes
// sorted by name, doc strings dropped. (It also drops the node's domain; we keep it,
// since the node would no longer resolve otherwise.)
void rebuild_like_make_node(onnx::Node& n) {
    std::stable_sort(n.attributes.begin(), n.attributes.end(), [](const onnx::Attribute& a, const onnx::Attribute& b) { return a.name < b.name; });
    for (onnx::Attribute& a : n.attributes) a.doc_string.clear();
    n.doc_string.clear();
    n.overload.clear();
    n.metadata_props.clear();
}

// onnxruntime's clean_initializers: drops initializers nothing reads (and their graph
// inputs), nested graphs first; returns the names this graph reads from outer scopes.
// A name defined twice keeps the later copy, as protobuf's remove() deletes the first
// equal element.
std::set<std::string> clean_initializers(onnx::Graph& g) {
    std::set<std::string> wanted;
    for (const onnx::Node& n : g.nodes)
        for (const std::string& in : n.inputs)
            if (!in.empty()) wanted.insert(in);
    for (const onnx::ValueInfo& o : g.outputs)
        if (!o.name.empty()) wanted.insert(o.name);
    for (onnx::Node& n : g.nodes) {
        if (!has_subgraphs(n)) continue;
        for (onnx::Attribute& a : n.attributes)
            for (onnx::Graph& sub : a.graphs) wanted.merge(clean_initializers(sub));
        rebuild_like_make_node(n);
    }
    for (const onnx::Node& n : g.nodes)
        for (const std::string& out : n.outputs) wanted.erase(out);
    std::vector<onnx::Tensor> unused;
    for (const onnx::Tensor& t : g.initializers)
        if (wanted.erase(t.name) == 0) unused.push_back(t);
    std::map<std::string, onnx::ValueInfo> input_of;
    for (const onnx::ValueInfo& in : g.inputs) input_of[in.name] = in;
    for (const onnx::Tensor& t : unused) {
        auto it = std::find(g.initializers.begin(), g.initializers.end(), t);
        if (it != g.initializers.end()) g.initializers.erase(it);
        if (auto in = input_of.find(t.name); in != input_of.end()) {
            auto gi = std::find(g.inputs.begin(), g.inputs.end(), in->second);
            if (gi != g.inputs.end()) g.inputs.erase(gi);
        }
    }
    for (const onnx::ValueInfo& in : g.inputs) wanted.erase(in.name);
    return wanted;
}

void set_opset(onnx::Model& m, const std::string& domain, int64_t version) {
    for (onnx::OpsetId& o : m.opset_import)
        if (o.domain == domain) {
            o.version = version;
            return;
        }
    m.opset_import.push_back({domain, version});
}

class Quantizer {
public:
    explicit Quantizer(const QuantizeOptions& opt) : opt_(opt) {}

    void run(onnx::Model& m) {
        set_opset(m, kMs, 1);
        if (opt_.embeddings) {
            // onnxruntime moves the standard domain to opset 21, the first with int4 types.
            for (const onnx::OpsetId& o : std::vector<onnx::OpsetId>(m.opset_import))
                if ((o.domain.empty() || o.domain == "ai.onnx") && o.version < 21) set_opset(m, o.domain, 21);
        }
        std::set<const onnx::Tensor*> weights;
        count_weights(m.graph, weights);
        for (const onnx::Tensor* t : weights) total_ += t->nbytes();
        process(m.graph);
        if (replaced_ == 0)
            fail("nothing to quantize: no MatMul whose B is a 2-D float initializer",
                 opt_.embeddings ? " and no Gather whose data is one" : " (--embeddings also quantizes Gather data)");
        clean_initializers(m.graph);
    }

private:
    struct Found {
        const onnx::Tensor* tensor = nullptr;
        onnx::Graph* graph = nullptr;
    };

    // The initializer `name` as onnxruntime finds it: innermost graph first.
    Found find(const std::string& name) const {
        for (auto g = stack_.rbegin(); g != stack_.rend(); ++g)
            for (const onnx::Tensor& t : (*g)->initializers)
                if (t.name == name) return {&t, *g};
        return {};
    }

    const std::string* weight_input(const onnx::Node& n) const {
        if (n.op_type == "MatMul" && n.inputs.size() >= 2) return &n.inputs[1];
        if (opt_.embeddings && n.op_type == "Gather" && !n.inputs.empty()) return &n.inputs[0];
        return nullptr;
    }

    void count_weights(onnx::Graph& g, std::set<const onnx::Tensor*>& out) {
        stack_.push_back(&g);
        for (onnx::Node& n : g.nodes) {
            for (onnx::Attribute& a : n.attributes)
                for (onnx::Graph& sub : a.graphs) count_weights(sub, out);
            if (const std::string* w = weight_input(n))
                if (const Found f = find(*w); f.tensor && is_candidate(*f.tensor)) out.insert(f.tensor);
        }
        stack_.pop_back();
    }

    void process(onnx::Graph& g) {
        stack_.push_back(&g);
        std::vector<onnx::Node> nodes;
        nodes.reserve(g.nodes.size());
        for (onnx::Node& n : g.nodes) {
            if (has_subgraphs(n)) {
                for (onnx::Attribute& a : n.attributes)
                    for (onnx::Graph& sub : a.graphs) process(sub);
                rebuild_like_make_node(n);
            }
            if (n.op_type == "MatMul") {
                nodes.push_back(quantize_matmul(std::move(n)));
            } else if (opt_.embeddings && n.op_type == "Gather") {
                nodes.push_back(quantize_gather(std::move(n)));
            } else {
                nodes.push_back(std::move(n));
            }
        }
        g.nodes = std::move(nodes);
        stack_.pop_back();
    }

    // The quantized tensors of weight `f` (computed once, as every user gets a copy).
    const std::vector<onnx::Tensor>& quantized(const Found& f, bool matmul) {
        const std::pair<const onnx::Graph*, std::string> key{f.graph, f.tensor->name};
        auto it = cache_.find(key);
        if (it != cache_.end()) return it->second;
        const onnx::Tensor& t = *f.tensor;
        const std::vector<float> w = read_floats(t);
        const int64_t rows = t.dims[0], cols = t.dims[1], bs = opt_.block_size;
        const int64_t kb = ((matmul ? rows : cols) + bs - 1) / bs;
        std::vector<onnx::Tensor> out;
        if (matmul) {
            Quantized q = quantize_columns(w, rows, cols, bs, opt_.symmetric);
            out.push_back(onnx::owned_tensor(t.name + "_Q4", DataType::UINT8, {cols, kb, bs / 2}, std::move(q.data)));
            out.push_back(onnx::owned_tensor(t.name + "_scales", DataType::FLOAT, {cols * kb}, as_bytes(q.scales)));
            const int64_t zp_bytes = static_cast<int64_t>(q.zero_points.size());
            if (!opt_.symmetric) out.push_back(onnx::owned_tensor(t.name + "_zero_points", DataType::UINT8, {zp_bytes}, std::move(q.zero_points)));
        } else {
            Quantized q = quantize_rows(w, rows, cols, bs, opt_.symmetric);
            const DataType qtype = opt_.symmetric ? DataType::INT4 : DataType::UINT4;
            out.push_back(onnx::owned_tensor(t.name + "_Q4", qtype, t.dims, std::move(q.data)));
            out.push_back(onnx::owned_tensor(t.name + "_scales", DataType::FLOAT, {rows, kb}, as_bytes(q.scales)));
            if (!opt_.symmetric) out.push_back(onnx::owned_tensor(t.name + "_zero_points", qtype, {rows, kb}, std::move(q.zero_points)));
        }
        done_ += t.nbytes();
        if (opt_.progress) opt_.progress(done_, total_);
        return cache_.emplace(key, std::move(out)).first->second;
    }

    // Adds the quantized tensors to the weight's graph and drops its graph input, as
    // onnxruntime does; returns their names.
    std::vector<std::string> add_quantized(const Found& f, bool matmul) {
        const std::vector<onnx::Tensor> q = quantized(f, matmul);  // copy: f.graph's vectors change below
        const std::string name = f.tensor->name;
        auto in = std::find_if(f.graph->inputs.begin(), f.graph->inputs.end(), [&](const onnx::ValueInfo& v) { return v.name == name; });
        if (in != f.graph->inputs.end()) f.graph->inputs.erase(in);
        std::vector<std::string> names;
        for (const onnx::Tensor& t : q) {
            names.push_back(t.name);
            f.graph->initializers.push_back(t);
        }
        replaced_++;
        return names;
    }

    onnx::Node quantize_matmul(onnx::Node n) {
        if (n.inputs.size() < 2 || n.outputs.empty()) return n;
        const Found f = find(n.inputs[1]);
        if (!f.tensor || !is_candidate(*f.tensor)) return n;  // activations, or not a 2-D fp32 matrix
        const int64_t K = f.tensor->dims[0], N = f.tensor->dims[1];
        std::vector<std::string> q = add_quantized(f, true);
        onnx::Node out;
        out.inputs = {n.inputs[0]};
        out.inputs.insert(out.inputs.end(), q.begin(), q.end());
        out.outputs = {n.outputs[0]};
        out.name = n.name.empty() ? "" : n.name + "_Q4";
        out.op_type = "MatMulNBits";
        out.domain = kMs;
        // onnx.helper.make_node's order: attribute names sorted (capitals first).
        out.attributes = {onnx::int_attribute("K", K), onnx::int_attribute("N", N)};
        if (opt_.accuracy_level) out.attributes.push_back(onnx::int_attribute("accuracy_level", *opt_.accuracy_level));
        out.attributes.push_back(onnx::int_attribute("bits", 4));
        out.attributes.push_back(onnx::int_attribute("block_size", opt_.block_size));
        return out;
    }

    onnx::Node quantize_gather(onnx::Node n) {
        if (n.inputs.size() < 2 || n.outputs.empty()) return n;
        const Found f = find(n.inputs[0]);
        if (!f.tensor || !is_candidate(*f.tensor)) return n;
        const onnx::Attribute* axis = n.attribute("axis");
        const int64_t gather_axis = axis ? axis->i : 0;
        std::vector<std::string> q = add_quantized(f, false);
        onnx::Node out;
        out.inputs = {q[0], n.inputs[1], q[1]};
        if (q.size() > 2) out.inputs.push_back(q[2]);
        out.outputs = {n.outputs[0]};
        out.name = n.name.empty() ? "" : n.name + "_Q4";
        out.op_type = "GatherBlockQuantized";
        out.domain = kMs;
        out.attributes = {onnx::int_attribute("block_size", opt_.block_size), onnx::int_attribute("gather_axis", gather_axis), onnx::int_attribute("quantize_axis", 1)};
        return out;
    }

    const QuantizeOptions& opt_;
    std::vector<onnx::Graph*> stack_;
    std::map<std::pair<const onnx::Graph*, std::string>, std::vector<onnx::Tensor>> cache_;
    size_t done_ = 0, total_ = 0, replaced_ = 0;
};

}  // namespace

onnx::Model quantize(onnx::Model model, const QuantizeOptions& opt) {
    if (opt.bits != 4) fail("only 4-bit quantization is implemented, got --bits ", opt.bits);
    if (opt.block_size != 16 && opt.block_size != 32 && opt.block_size != 64 && opt.block_size != 128)
        fail("block size must be 16, 32, 64 or 128, got ", opt.block_size);
    if (opt.accuracy_level && (*opt.accuracy_level < 0 || *opt.accuracy_level > 4))
        fail("accuracy level must be 0 to 4, got ", *opt.accuracy_level);
    Quantizer(opt).run(model);
    return model;
}

}  // namespace lmx::models
