#include "runtime/logprobs.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace lmx {

TokenLogprobs token_logprobs(Session& session, const std::vector<int32_t>& ids, int top, int n_batch) {
    if (ids.empty()) fail("the text has no tokens");
    if (top < 0 || n_batch <= 0) fail("token_logprobs: need top >= 0 and n_batch > 0");
    const int32_t n_vocab = session.model().config().n_vocab;
    for (int32_t id : ids)
        if (id < 0 || id >= n_vocab) fail("token id ", id, " is outside the vocabulary (", n_vocab, " tokens)");
    if (static_cast<int64_t>(ids.size()) - 1 > session.n_ctx())
        fail("the text has ", ids.size(), " tokens but the context holds ", session.n_ctx());
    const int k = std::min(top, n_vocab);
    const size_t n = ids.size() - 1;
    TokenLogprobs r;
    r.top = k;
    r.logprob.resize(n);
    r.top_ids.resize(n * static_cast<size_t>(k));
    r.top_logprob.resize(n * static_cast<size_t>(k));
    std::vector<int32_t> order(static_cast<size_t>(n_vocab));
    // position 0 has no prediction; row i of a batch starting at b predicts token b + i + 1
    for (size_t b = 0; b < n; b += static_cast<size_t>(n_batch)) {
        const size_t e = std::min(n, b + static_cast<size_t>(n_batch));
        Batch batch;
        for (size_t i = b; i < e; i++) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
        const std::vector<float>& logits = session.decode(batch);
        for (size_t i = b; i < e; i++) {
            const float* l = logits.data() + (i - b) * static_cast<size_t>(n_vocab);
            const float mx = *std::max_element(l, l + n_vocab);
            double sum = 0;
            for (int32_t v = 0; v < n_vocab; v++) sum += std::exp(static_cast<double>(l[v] - mx));
            const double log_z = static_cast<double>(mx) + std::log(sum);
            r.logprob[i] = l[ids[i + 1]] - log_z;
            if (k == 0) continue;
            for (int32_t v = 0; v < n_vocab; v++) order[static_cast<size_t>(v)] = v;
            // ties: the lower id first, so the order is reproducible
            std::partial_sort(order.begin(), order.begin() + k, order.end(),
                              [l](int32_t x, int32_t y) { return l[x] > l[y] || (l[x] == l[y] && x < y); });
            for (int j = 0; j < k; j++) {
                r.top_ids[i * static_cast<size_t>(k) + static_cast<size_t>(j)] = order[static_cast<size_t>(j)];
                r.top_logprob[i * static_cast<size_t>(k) + static_cast<size_t>(j)] = l[order[static_cast<size_t>(j)]] - log_z;
            }
        }
    }
    return r;
}

}  // namespace lmx
