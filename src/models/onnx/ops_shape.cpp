// ONNX's ops on shapes and layouts (Shape, Reshape, Transpose, Slice, Pad...) and on
// indices (Gather, Scatter, OneHot, CumSum). Several took as attributes in early opsets
// what later opsets take as inputs (Reshape's shape, Squeeze's axes, Slice's starts,
// Split's sizes, Pad's pads); the importer passes the attribute when the opset has one.
#include <cstring>

#include "base/error.hpp"
#include "models/onnx/node_context.hpp"
#include "ops/nd/gather_ops.hpp"
#include "ops/nd/layout_ops.hpp"
#include "ops/nd/shape_ops.hpp"

namespace lmx::models::onnx_import {

namespace nd = ops::nd;

static ops::OpPtr make_shape(const NodeContext& n) {
    return nd::shape(n.get_int("start", 0), n.has("end") ? std::optional<int64_t>(n.get_int("end", 0)) : std::nullopt);
}

static ops::OpPtr make_size(const NodeContext&) { return nd::size(); }

static ops::OpPtr make_reshape(const NodeContext& n) {
    if (n.opset < 5) {
        auto dims = n.get_ints("shape");
        if (!dims) fail("needs attribute 'shape' before opset 5");
        return nd::reshape(false, std::move(dims));
    }
    return nd::reshape(n.get_int("allowzero", 0) != 0);
}

static ops::OpPtr make_flatten(const NodeContext& n) { return nd::flatten(n.get_int("axis", 1)); }

// Before opset 13 Squeeze and Unsqueeze take their axes as an attribute; an absent or
// empty one (Squeeze) means every size-1 dim.
static ops::OpPtr make_squeeze(const NodeContext& n) {
    if (n.opset >= 13) return nd::squeeze(std::nullopt);
    auto axes = n.get_ints("axes");
    return nd::squeeze(axes && !axes->empty() ? std::move(axes) : std::nullopt);
}

static ops::OpPtr make_unsqueeze(const NodeContext& n) {
    if (n.opset >= 13) return nd::unsqueeze(std::nullopt);
    auto axes = n.get_ints("axes");
    if (!axes) fail("needs attribute 'axes' before opset 13");
    return nd::unsqueeze(std::move(axes));
}

static ops::OpPtr make_expand(const NodeContext&) { return nd::expand(); }

static ops::OpPtr make_constant_of_shape(const NodeContext& n) {
    const onnx::Tensor* t = n.get_tensor("value");
    if (!t) {
        const float zero = 0;
        std::vector<uint8_t> bytes(sizeof zero);
        std::memcpy(bytes.data(), &zero, sizeof zero);
        return nd::constant_of_shape(DType::F32, std::move(bytes));
    }
    const DType dtype = to_dtype(t->dtype);
    if (t->elements() != 1) fail("attribute 'value' must hold one element, has ", t->elements());
    if (!t->has_data()) fail("attribute 'value' has no data");
    const std::span<const uint8_t> bytes = t->bytes();
    return nd::constant_of_shape(dtype, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

static ops::OpPtr make_range(const NodeContext&) { return nd::range(); }

static ops::OpPtr make_eye_like(const NodeContext& n) {
    std::optional<DType> dtype;
    if (n.has("dtype")) dtype = to_dtype(static_cast<onnx::DataType>(n.get_int("dtype", 0)));
    return nd::eye_like(dtype, n.get_int("k", 0));
}

static ops::OpPtr make_transpose(const NodeContext& n) { return nd::transpose(n.get_ints("perm")); }

static ops::OpPtr make_concat(const NodeContext& n) {
    return nd::concat(n.opset < 4 ? n.get_int("axis", 1) : n.require_int("axis"));
}

static ops::OpPtr make_split(const NodeContext& n) {
    const size_t outputs = n.n_outputs();
    if (n.opset >= 18 && n.has("num_outputs") && n.get_int("num_outputs", 0) != static_cast<int64_t>(outputs))
        fail("attribute 'num_outputs' is ", n.get_int("num_outputs", 0), " but the node has ", outputs, " outputs");
    auto sizes = n.opset < 13 ? n.get_ints("split") : std::nullopt;
    if (sizes && sizes->empty()) sizes.reset();  // an empty list: equal parts
    return nd::split(n.get_int("axis", 0), outputs, std::move(sizes));
}

static ops::OpPtr make_slice(const NodeContext& n) {
    if (n.opset >= 10) return nd::slice(std::nullopt);
    auto starts = n.get_ints("starts"), ends = n.get_ints("ends");
    if (!starts || !ends) fail("needs attributes 'starts' and 'ends' before opset 10");
    return nd::slice(nd::SliceAttrs{std::move(*starts), std::move(*ends), n.get_ints("axes")});
}

static ops::OpPtr make_tile(const NodeContext& n) {
    if (n.opset < 6) fail("Tile before opset 6 (tiles and axis inputs) is not supported");
    return nd::tile();
}

static ops::OpPtr make_pad(const NodeContext& n) {
    const std::string mode = n.get_string("mode", "constant");
    nd::PadMode m;
    if (mode == "constant") m = nd::PadMode::constant;
    else if (mode == "reflect") m = nd::PadMode::reflect;
    else if (mode == "edge") m = nd::PadMode::edge;
    else if (mode == "wrap") m = nd::PadMode::wrap;
    else fail("attribute 'mode' must be constant, reflect, edge or wrap, got ", shown(mode));
    if (n.opset >= 11) return nd::pad(m, std::nullopt);
    auto pads = n.get_ints(n.opset < 2 ? "paddings" : "pads");
    if (!pads) fail("needs attribute '", n.opset < 2 ? "paddings" : "pads", "' before opset 11");
    std::optional<nd::PadAttrs> attrs(std::in_place);
    attrs->pads = std::move(*pads);
    attrs->value = n.get_float("value", 0);
    return nd::pad(m, std::move(attrs));
}

static ops::OpPtr make_trilu(const NodeContext& n) { return nd::trilu(n.get_int("upper", 1) != 0); }

// DepthToSpace's mode, and SpaceToDepth's (opset 28 on; DCR before).
static bool crd_mode(const NodeContext& n) {
    const std::string mode = n.get_string("mode", "DCR");
    if (mode != "DCR" && mode != "CRD") fail("attribute 'mode' must be DCR or CRD, got ", shown(mode));
    return mode == "CRD";
}

static ops::OpPtr make_depth_to_space(const NodeContext& n) { return nd::depth_to_space(n.require_int("blocksize"), crd_mode(n)); }
static ops::OpPtr make_space_to_depth(const NodeContext& n) { return nd::space_to_depth(n.require_int("blocksize"), crd_mode(n)); }

static ops::OpPtr make_gather(const NodeContext& n) { return nd::gather(n.get_int("axis", 0)); }
static ops::OpPtr make_gather_elements(const NodeContext& n) { return nd::gather_elements(n.get_int("axis", 0)); }
static ops::OpPtr make_gather_nd(const NodeContext& n) { return nd::gather_nd(n.get_int("batch_dims", 0)); }

static nd::ScatterReduction reduction(const NodeContext& n) {
    const std::string r = n.get_string("reduction", "none");
    if (r == "none") return nd::ScatterReduction::none;
    if (r == "add") return nd::ScatterReduction::add;
    if (r == "mul") return nd::ScatterReduction::mul;
    if (r == "max") return nd::ScatterReduction::max;
    if (r == "min") return nd::ScatterReduction::min;
    fail("attribute 'reduction' must be none, add, mul, max or min, got ", shown(r));
}

// Scatter (opsets 9-10) is ScatterElements without a reduction.
static ops::OpPtr make_scatter_elements(const NodeContext& n) { return nd::scatter_elements(n.get_int("axis", 0), reduction(n)); }
static ops::OpPtr make_scatter_nd(const NodeContext& n) { return nd::scatter_nd(reduction(n)); }
static ops::OpPtr make_one_hot(const NodeContext& n) { return nd::one_hot(n.get_int("axis", -1)); }
static ops::OpPtr make_cum_sum(const NodeContext& n) { return nd::cum_sum(n.get_int("exclusive", 0) != 0, n.get_int("reverse", 0) != 0); }

static constexpr Entry kEntries[] = {
    {"", "Shape", make_shape},
    {"", "Size", make_size},
    {"", "Reshape", make_reshape},
    {"", "Flatten", make_flatten},
    {"", "Squeeze", make_squeeze},
    {"", "Unsqueeze", make_unsqueeze},
    {"", "Expand", make_expand},
    {"", "ConstantOfShape", make_constant_of_shape},
    {"", "Range", make_range},
    {"", "EyeLike", make_eye_like},
    {"", "Transpose", make_transpose},
    {"", "Concat", make_concat},
    {"", "Split", make_split},
    {"", "Slice", make_slice},
    {"", "Tile", make_tile},
    {"", "Pad", make_pad},
    {"", "Trilu", make_trilu},
    {"", "DepthToSpace", make_depth_to_space},
    {"", "SpaceToDepth", make_space_to_depth},
    {"", "Gather", make_gather},
    {"", "GatherElements", make_gather_elements},
    {"", "GatherND", make_gather_nd},
    {"", "ScatterElements", make_scatter_elements},
    {"", "Scatter", make_scatter_elements},
    {"", "ScatterND", make_scatter_nd},
    {"", "OneHot", make_one_hot},
    {"", "CumSum", make_cum_sum},
};

std::span<const Entry> shape_entries() { return kEntries; }

}  // namespace lmx::models::onnx_import
