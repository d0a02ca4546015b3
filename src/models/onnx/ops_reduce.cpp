// ONNX's reductions (Reduce*, ArgMax/ArgMin), Softmax and its kin, and TopK.
#include "base/error.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/reduce.hpp"
#include "ops/nd/softmax.hpp"
#include "ops/nd/topk.hpp"

namespace lmx::models::onnx_import {

using ops::nd::ReduceKind;
using ops::nd::SoftmaxKind;

// axes is an attribute until the opset where it became the optional second input
// (ReduceSum 13, the others 18), which also added noop_with_empty_axes.
template <ReduceKind K>
static ops::OpPtr make_reduce(const NodeContext& n) {
    const int64_t axes_input_since = K == ReduceKind::sum ? 13 : 18;
    const bool keepdims = n.get_int("keepdims", 1) != 0;
    if (n.opset >= axes_input_since) {
        if (n.has("axes")) fail("axes is an input since opset ", axes_input_since, ", not an attribute");
        return ops::nd::reduce(K, std::nullopt, keepdims, n.get_int("noop_with_empty_axes", 0) != 0);
    }
    if (n.n_inputs() > 1) fail("axes is an attribute before opset ", axes_input_since, ", not an input");
    return ops::nd::reduce(K, n.get_ints("axes").value_or(std::vector<int64_t>{}), keepdims, false);
}

template <bool IsMax>
static ops::OpPtr make_arg_reduce(const NodeContext& n) {
    return ops::nd::arg_reduce(IsMax, n.get_int("axis", 0), n.get_int("keepdims", 1) != 0, n.get_int("select_last_index", 0) != 0);
}

// Before opset 13 the input is flattened to 2D at axis (default 1); from 13 on, one axis (default -1).
template <SoftmaxKind K>
static ops::OpPtr make_softmax(const NodeContext& n) {
    const bool coerce_2d = n.opset < 13;
    return ops::nd::softmax(K, n.get_int("axis", coerce_2d ? 1 : -1), coerce_2d);
}

// k is an attribute in opset 1, the second input from 10; largest (and sorted, which
// lmx always honours) from 11.
static ops::OpPtr make_top_k(const NodeContext& n) {
    const int64_t axis = n.get_int("axis", -1);
    const bool largest = n.get_int("largest", 1) != 0;
    if (n.opset < 10) return ops::nd::top_k(axis, largest, n.require_int("k"));
    return ops::nd::top_k(axis, largest, std::nullopt);
}

static constexpr Entry kEntries[] = {
    {"", "ReduceSum", make_reduce<ReduceKind::sum>},
    {"", "ReduceMean", make_reduce<ReduceKind::mean>},
    {"", "ReduceMax", make_reduce<ReduceKind::max>},
    {"", "ReduceMin", make_reduce<ReduceKind::min>},
    {"", "ReduceProd", make_reduce<ReduceKind::prod>},
    {"", "ReduceL1", make_reduce<ReduceKind::l1>},
    {"", "ReduceL2", make_reduce<ReduceKind::l2>},
    {"", "ReduceLogSum", make_reduce<ReduceKind::log_sum>},
    {"", "ReduceLogSumExp", make_reduce<ReduceKind::log_sum_exp>},
    {"", "ReduceSumSquare", make_reduce<ReduceKind::sum_square>},
    {"", "ArgMax", make_arg_reduce<true>},
    {"", "ArgMin", make_arg_reduce<false>},
    {"", "Softmax", make_softmax<SoftmaxKind::softmax>},
    {"", "LogSoftmax", make_softmax<SoftmaxKind::log_softmax>},
    {"", "Hardmax", make_softmax<SoftmaxKind::hardmax>},
    {"", "TopK", make_top_k},
};

std::span<const Entry> reduce_entries() { return kEntries; }

}  // namespace lmx::models::onnx_import
