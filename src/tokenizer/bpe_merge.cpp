#include "tokenizer/bpe_merge.hpp"

#include <queue>

namespace lmx {

void BpeRanks::add(int32_t left, int32_t right, int32_t rank, int32_t result, bool keep_first) {
    const auto [it, added] = map_.emplace(key(left, right), Merge{rank, result});
    if (!added && !keep_first) it->second = Merge{rank, result};
}

void BpeRanks::apply(std::vector<BpeSymbol>& syms) const {
    if (syms.size() < 2) return;
    std::vector<int32_t> prev(syms.size()), next(syms.size());
    for (size_t i = 0; i < syms.size(); ++i) {
        prev[i] = static_cast<int32_t>(i) - 1;
        next[i] = i + 1 < syms.size() ? static_cast<int32_t>(i + 1) : -1;
    }
    std::vector<bool> gone(syms.size(), false);

    struct Candidate {
        int32_t rank, left, result;
        bool operator<(const Candidate& o) const {  // priority_queue pops the largest: lowest rank, then leftmost
            return rank != o.rank ? rank > o.rank : left > o.left;
        }
    };
    std::priority_queue<Candidate> queue;
    const auto consider = [&](int32_t left) {
        if (left < 0 || next[static_cast<size_t>(left)] < 0) return;
        const auto l = static_cast<size_t>(left), r = static_cast<size_t>(next[l]);
        if (const Merge* m = find(syms[l].id, syms[r].id)) queue.push({m->rank, left, m->result});
    };
    for (size_t i = 0; i + 1 < syms.size(); ++i) consider(static_cast<int32_t>(i));

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        const auto l = static_cast<size_t>(c.left);
        if (gone[l] || next[l] < 0) continue;
        const auto r = static_cast<size_t>(next[l]);
        const Merge* m = find(syms[l].id, syms[r].id);
        if (!m || m->result != c.result) continue;  // stale
        syms[l].id = c.result;
        syms[l].end = syms[r].end;
        gone[r] = true;
        next[l] = next[r];
        if (next[r] >= 0) prev[static_cast<size_t>(next[r])] = c.left;
        consider(prev[l]);
        consider(c.left);
    }
    size_t out = 0;
    for (size_t i = 0; i < syms.size(); ++i)
        if (!gone[i]) syms[out++] = syms[i];
    syms.resize(out);
}

}  // namespace lmx
