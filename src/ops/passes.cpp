#include "ops/passes.hpp"

#include <map>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/packed_weights.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

using graph::Graph;
using graph::Node;
using graph::ValueId;

namespace {

// The nodes reading each value, with the input position they read it at.
struct Reader {
    size_t node;
    size_t input;
};
std::vector<std::vector<Reader>> readers_of(const Graph& g) {
    std::vector<std::vector<Reader>> r(g.values().size());
    for (size_t n = 0; n < g.nodes().size(); n++)
        for (size_t i = 0; i < g.nodes()[n].inputs.size(); i++) r[static_cast<size_t>(g.nodes()[n].inputs[i])].push_back({n, i});
    return r;
}

}  // namespace

int group_matmuls(Graph& g) {
    const std::vector<Node>& nodes = g.nodes();
    // Candidates by x, then by activation type, in node order; weights and biases must be
    // constants so that the group may run where its first member did.
    std::map<ValueId, std::map<DType, std::vector<size_t>>> by_x;
    for (size_t n = 0; n < nodes.size(); n++) {
        const auto packed = packed_weight(*nodes[n].op);
        if (!packed) continue;
        bool constant_args = true;
        for (size_t i = 1; i < nodes[n].inputs.size(); i++)
            constant_args = constant_args && g.value(nodes[n].inputs[i]).kind == graph::ValueKind::constant;
        if (constant_args) by_x[nodes[n].inputs[0]][kernels::act_type_of(packed->dtype())].push_back(n);
    }
    std::vector<int> group_at(nodes.size(), -1);  // node → its group's index, for the members
    std::vector<Node> groups;
    for (const auto& [x, by_act] : by_x) {
        const std::vector<size_t>* members = nullptr;  // the activation type the most share
        for (const auto& [act, ns] : by_act)
            if (!members || ns.size() > members->size()) members = &ns;
        if (members->size() < 2) continue;
        std::vector<std::shared_ptr<const kernels::PackedWeights>> packed;
        std::vector<bool> has_bias;
        Node group{nullptr, {x}, {}};
        for (size_t n : *members) {
            packed.push_back(packed_weight(*nodes[n].op));
            has_bias.push_back(nodes[n].inputs.size() == 3);
            group.inputs.insert(group.inputs.end(), nodes[n].inputs.begin() + 1, nodes[n].inputs.end());
            group.outputs.push_back(nodes[n].outputs.at(0));
            group_at[n] = static_cast<int>(groups.size());
        }
        group.op = matmul_group(std::move(packed), std::move(has_bias));
        groups.push_back(std::move(group));
    }
    if (groups.empty()) return 0;
    std::vector<Node> rewritten;
    std::vector<bool> placed(groups.size());
    for (size_t n = 0; n < nodes.size(); n++) {
        const int gi = group_at[n];
        if (gi < 0) rewritten.push_back(nodes[n]);
        else if (!placed[static_cast<size_t>(gi)]) rewritten.push_back(groups[static_cast<size_t>(gi)]), placed[static_cast<size_t>(gi)] = true;
    }
    g.set_nodes(std::move(rewritten));
    return static_cast<int>(groups.size());
}

int quantize_in_norms(Graph& g) {
    const auto readers = readers_of(g);
    std::vector<bool> is_output(g.values().size());
    for (ValueId id : g.outputs()) is_output[static_cast<size_t>(id)] = true;
    std::vector<Node> rewritten = g.nodes();
    int fused = 0;
    for (Node& node : rewritten) {
        const std::optional<float> eps = row_rms_norm_eps(*node.op);
        if (!eps) continue;
        const auto y = static_cast<size_t>(node.outputs.at(0));
        if (is_output[y] || readers[y].empty()) continue;
        std::optional<DType> act;
        bool all_matmuls = true;
        for (const Reader& r : readers[y]) {
            const std::optional<DType> t = r.input == 0 ? quantized_input_type(g, g.nodes()[r.node]) : std::nullopt;
            all_matmuls = all_matmuls && t && (!act || *t == *act);
            if (t) act = t;
        }
        if (!all_matmuls) continue;
        node.op = rms_norm_quantize(*eps, *act);
        fused++;
    }
    if (fused) g.set_nodes(std::move(rewritten));
    return fused;
}

void fuse_decoder(Graph& g) {
    group_matmuls(g);
    quantize_in_norms(g);
}

}  // namespace lmx::ops
