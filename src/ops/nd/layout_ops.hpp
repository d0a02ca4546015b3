#pragma once
// Ops that move elements to new positions without computing on them (ONNX's Transpose,
// Concat, Split, Slice, Tile, Pad, Trilu, DepthToSpace, SpaceToDepth); any element type.
#include <optional>
#include <string>
#include <vector>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// transpose(x) -> output dim i is x's dim perm[i]; no perm: the dims reversed.
OpPtr transpose(std::optional<std::vector<int64_t>> perm);
// concat(x0, x1, ...) -> the inputs joined along axis (their other dims equal).
OpPtr concat(int64_t axis);
// split(x[, split i64]) -> n_outputs parts along axis, of the sizes in `sizes` when given
// (an attribute before opset 13), else the second input, else as equal as possible
// (ceil(dim / n) each, the last one smaller).
OpPtr split(int64_t axis, size_t n_outputs, std::optional<std::vector<int64_t>> sizes);

// Slice's starts, ends and axes when they are attributes (opset 1); from 10 on they are inputs.
struct SliceAttrs {
    std::vector<int64_t> starts, ends;
    std::optional<std::vector<int64_t>> axes;
};
// slice(x[, starts, ends, axes, steps]) -> x[start:end:step] along each axis, numpy's way
// (negatives count from the back, out-of-range bounds clamp, steps may be negative).
OpPtr slice(std::optional<SliceAttrs> attrs);
// tile(x, repeats i64) -> x repeated repeats[i] times along dim i.
OpPtr tile();

enum class PadMode { constant, reflect, edge, wrap };
// Pad's pads and value when they are attributes (before opset 11).
struct PadAttrs {
    std::vector<int64_t> pads;
    float value = 0;
};
// pad(x[, pads i64, constant_value, axes]) -> x grown (or cut, for negative pads) by
// pads = [begin of each axis..., end of each axis...]; axes: which dims pads covers
// (all by default). The border is the constant, x mirrored without (reflect) or with its
// edge repeated (edge), or x continued from its other side (wrap).
OpPtr pad(PadMode mode, std::optional<PadAttrs> attrs);
// trilu(x [..., N, M][, k i64]) -> x with the elements below (upper) or above (lower) the
// diagonal shifted by k (k > 0: above) zeroed.
OpPtr trilu(bool upper);
// depth_to_space(x [B, C, H, W]) -> [B, C / b², H·b, W·b]: channel blocks moved into
// b×b pixel blocks; DCR mode takes depth as (block row, block col, channel), CRD as
// (channel, block row, block col).
OpPtr depth_to_space(int64_t block, bool crd);
// space_to_depth(x [B, C, H, W]) -> [B, C·b², H / b, W / b]: the inverse of depth_to_space
// in the same mode.
OpPtr space_to_depth(int64_t block, bool crd);

}  // namespace lmx::ops::nd
