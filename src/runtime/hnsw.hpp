#pragma once
// Approximate nearest neighbours by inner product (cosine on normalized vectors): a
// small HNSW graph (Malkov & Yashunin, 2016): each vector is a node on layers 0..L
// (L drawn geometrically), linked to its M closest neighbours per layer (2M on layer
// 0); a search descends greedily from the top layer and widens to ef candidates on
// layer 0. Level draws use a fixed seed, so the same vectors give the same graph.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/kernels.hpp"

namespace lmx {

struct HnswParams {
    int m = 16;                // links per node on layers above 0 (2m on layer 0)
    int ef_construction = 128; // candidates kept while linking a new node
    int ef_search = 96;        // candidates kept while searching (at least k)
};

class Hnsw {
public:
    // vectors: n rows of dims floats, which must outlive the graph and not move.
    Hnsw(const float* vectors, size_t n, int dims, const HnswParams& p = {});

    // The k rows with the largest dot product with query, best first: (row, score).
    // Not thread-safe (searches share the visited marks).
    std::vector<std::pair<size_t, float>> search(const float* query, size_t k) const;

private:
    using Cand = std::pair<float, uint32_t>;  // (score, node)
    float score(const float* q, uint32_t node) const { return dot_(dims_, vectors_ + size_t(node) * size_t(dims_), q); }
    std::vector<Cand> search_layer(const float* q, uint32_t entry, int layer, int ef) const;
    std::vector<uint32_t> select(const std::vector<Cand>& cands, int m) const;
    void insert(uint32_t node, int level);

    const float* vectors_;
    int dims_;
    HnswParams p_;
    kernels::VecDotFn dot_;
    std::vector<std::vector<std::vector<uint32_t>>> links_;  // [node][layer] -> neighbours
    mutable std::vector<uint32_t> visited_;  // per node: the search that last saw it (so no clearing per search)
    mutable uint32_t search_id_ = 0;
    uint32_t entry_ = 0;
    int top_ = -1;
};

}  // namespace lmx
