#pragma once
// Rewrites of a built graph into fewer, fused nodes. A model builder emits the plain graph
// (one node per norm and per projection) and runs these: each keeps every output's bits
// those of the plain graph, in the fast and the deterministic mode. (RoPE, the residual
// adds and the other elementwise ops run in place through the planner instead:
// graph::Op::in_place_input.)
#include "graph/ir.hpp"

namespace lmx::ops {

// Matmuls of repacked weights reading the same x and sharing an activation type (a layer's
// q, k and v; gate and up) become one matmul_group at the first one's place: x quantized
// once, one pass of the threads over all their tiles. Returns the groups made.
int group_matmuls(graph::Graph& g);

// An rms_norm whose every reader is a matmul quantizing its x to one block type becomes
// rms_norm_quantize: each row leaves the norm quantized, so the f32 row is neither
// written out nor read back. Returns the norms fused.
int quantize_in_norms(graph::Graph& g);

// Both, in that order (a layer's norm then has one reader, its group).
void fuse_decoder(graph::Graph& g);

}  // namespace lmx::ops
