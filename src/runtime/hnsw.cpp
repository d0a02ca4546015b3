#include "runtime/hnsw.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>

namespace lmx {

Hnsw::Hnsw(const float* vectors, size_t n, int dims, const HnswParams& p)
    : vectors_(vectors), dims_(dims), p_(p), dot_(kernels::best_table().weight[static_cast<int>(DType::F32)].vec_dot) {
    links_.resize(n);
    std::mt19937_64 rng(0x6c6d78);  // "lmx": the same vectors always give the same graph
    std::uniform_real_distribution<double> u(std::nextafter(0.0, 1.0), 1.0);
    const double ml = 1.0 / std::log(static_cast<double>(std::max(p_.m, 2)));
    for (size_t i = 0; i < n; i++) insert(static_cast<uint32_t>(i), static_cast<int>(-std::log(u(rng)) * ml));
}

// Best-first search on one layer from entry, keeping the ef best nodes seen.
std::vector<Hnsw::Cand> Hnsw::search_layer(const float* q, uint32_t entry, int layer, int ef) const {
    if (visited_.size() != links_.size()) visited_.assign(links_.size(), 0);
    if (++search_id_ == 0) {  // wrapped: old marks could collide
        std::fill(visited_.begin(), visited_.end(), 0);
        search_id_ = 1;
    }
    std::priority_queue<Cand> frontier;                                   // best first
    std::priority_queue<Cand, std::vector<Cand>, std::greater<>> best;   // worst of the kept on top
    const Cand e{score(q, entry), entry};
    frontier.push(e);
    best.push(e);
    visited_[entry] = search_id_;
    while (!frontier.empty()) {
        const Cand c = frontier.top();
        frontier.pop();
        if (static_cast<int>(best.size()) >= ef && c.first < best.top().first) break;
        for (uint32_t nb : links_[c.second][static_cast<size_t>(layer)]) {
            if (visited_[nb] == search_id_) continue;
            visited_[nb] = search_id_;
            const float s = score(q, nb);
            if (static_cast<int>(best.size()) < ef || s > best.top().first) {
                frontier.push({s, nb});
                best.push({s, nb});
                if (static_cast<int>(best.size()) > ef) best.pop();
            }
        }
    }
    std::vector<Cand> out;
    for (; !best.empty(); best.pop()) out.push_back(best.top());
    std::reverse(out.begin(), out.end());  // best first
    return out;
}

// The HNSW neighbour heuristic: keep a candidate only if it is closer to the new node
// than to every neighbour already kept, so links spread in different directions.
std::vector<uint32_t> Hnsw::select(const std::vector<Cand>& cands, int m) const {
    std::vector<uint32_t> kept;
    for (const Cand& c : cands) {
        if (static_cast<int>(kept.size()) >= m) break;
        const float* v = vectors_ + size_t(c.second) * size_t(dims_);
        const bool diverse = std::all_of(kept.begin(), kept.end(), [&](uint32_t k) { return score(v, k) < c.first; });
        if (diverse) kept.push_back(c.second);
    }
    return kept;
}

void Hnsw::insert(uint32_t node, int level) {
    links_[node].resize(static_cast<size_t>(level) + 1);
    if (top_ < 0) {
        entry_ = node;
        top_ = level;
        return;
    }
    const float* q = vectors_ + size_t(node) * size_t(dims_);
    uint32_t ep = entry_;
    for (int l = top_; l > level; l--) ep = search_layer(q, ep, l, 1)[0].second;
    for (int l = std::min(level, top_); l >= 0; l--) {
        const std::vector<Cand> cands = search_layer(q, ep, l, p_.ef_construction);
        const int m_max = l == 0 ? 2 * p_.m : p_.m;
        links_[node][static_cast<size_t>(l)] = select(cands, p_.m);
        for (uint32_t nb : links_[node][static_cast<size_t>(l)]) {
            std::vector<uint32_t>& back = links_[nb][static_cast<size_t>(l)];
            back.push_back(node);
            if (static_cast<int>(back.size()) > m_max) {  // too many links: keep the best diverse ones
                const float* nv = vectors_ + size_t(nb) * size_t(dims_);
                std::vector<Cand> scored;
                for (uint32_t x : back) scored.push_back({score(nv, x), x});
                std::sort(scored.begin(), scored.end(), std::greater<>());
                back = select(scored, m_max);
            }
        }
        ep = cands[0].second;
    }
    if (level > top_) {
        top_ = level;
        entry_ = node;
    }
}

std::vector<std::pair<size_t, float>> Hnsw::search(const float* query, size_t k) const {
    std::vector<std::pair<size_t, float>> out;
    if (top_ < 0 || k == 0) return out;
    uint32_t ep = entry_;
    for (int l = top_; l > 0; l--) ep = search_layer(query, ep, l, 1)[0].second;
    for (const Cand& c : search_layer(query, ep, 0, std::max(p_.ef_search, static_cast<int>(k)))) {
        if (out.size() == k) break;
        out.push_back({c.second, c.first});
    }
    return out;
}

}  // namespace lmx
