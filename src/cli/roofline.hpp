#pragma once
// The memory-bandwidth bound of generation (lmx bench --roofline): decoding one token
// reads every weight once (token embeddings: one row), so tokens/s can never exceed the
// machine's read bandwidth divided by those bytes.
#include <cstddef>

#include "graph/ir.hpp"

namespace lmx::cli {

// Bytes of weights one decoded token reads: every constant of the graph, except a table
// only gathered from (token embeddings: one row; tied output weights count in full).
size_t weight_bytes_per_token(const graph::Graph& g);

// Read bandwidth in GB/s of `threads` threads summing a 1 GiB buffer, best of 3.
double read_bandwidth_gbps(int threads);

}  // namespace lmx::cli
