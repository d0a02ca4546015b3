#include "runtime/eval.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace lmx {

namespace {

// log-softmax of n logits, in double.
void log_softmax(const float* l, int64_t n, std::vector<double>& out) {
    out.resize(static_cast<size_t>(n));
    const float mx = *std::max_element(l, l + n);
    double sum = 0;
    for (int64_t v = 0; v < n; v++) sum += std::exp(static_cast<double>(l[v] - mx));
    const double log_z = static_cast<double>(mx) + std::log(sum);
    for (int64_t v = 0; v < n; v++) out[static_cast<size_t>(v)] = l[v] - log_z;
}

}  // namespace

EvalResult evaluate(Session& model, Session& ref, const std::vector<int32_t>& tokens, int64_t window,
                    const std::function<void(size_t, size_t)>& progress) {
    const int64_t n_vocab = model.model().config().n_vocab;
    if (ref.model().config().n_vocab != n_vocab)
        fail("the models' vocabularies differ (", n_vocab, " and ", ref.model().config().n_vocab, " tokens): compare models of one family");
    if (window < 2) fail("the window must hold at least 2 tokens, got ", window);
    if (window > model.n_ctx() || window > ref.n_ctx()) fail("the window of ", window, " tokens is larger than the sessions' context");
    if (tokens.size() < 2) fail("the text needs at least 2 tokens");
    for (int32_t id : tokens)
        if (id < 0 || id >= n_vocab) fail("token id ", id, " is outside the vocabulary (", n_vocab, " tokens)");

    const size_t n_windows = (tokens.size() - 1 + static_cast<size_t>(window) - 2) / static_cast<size_t>(window - 1);
    std::vector<double> kl;
    double nll_model = 0, nll_ref = 0;
    int64_t agree = 0;
    std::vector<double> lp_model, lp_ref;
    // Windows overlap by one token, so every token after the first is predicted once.
    for (size_t w = 0, start = 0; start + 1 < tokens.size(); w++, start += static_cast<size_t>(window - 1)) {
        const size_t end = std::min(tokens.size(), start + static_cast<size_t>(window));
        Batch batch;
        for (size_t i = start; i + 1 < end; i++) batch.add(tokens[i], static_cast<int32_t>(i - start), 0, true);
        const std::vector<float> logits_model = model.decode(batch);
        const std::vector<float>& logits_ref = ref.decode(batch);
        for (size_t i = start; i + 1 < end; i++) {
            const size_t row = (i - start) * static_cast<size_t>(n_vocab);
            log_softmax(logits_model.data() + row, n_vocab, lp_model);
            log_softmax(logits_ref.data() + row, n_vocab, lp_ref);
            const size_t next = static_cast<size_t>(tokens[i + 1]);
            nll_model -= lp_model[next];
            nll_ref -= lp_ref[next];
            double d = 0;
            for (int64_t v = 0; v < n_vocab; v++) d += std::exp(lp_ref[static_cast<size_t>(v)]) * (lp_ref[static_cast<size_t>(v)] - lp_model[static_cast<size_t>(v)]);
            kl.push_back(std::max(d, 0.0));  // rounding can leave -1e-17
            agree += std::max_element(lp_model.begin(), lp_model.end()) - lp_model.begin() ==
                     std::max_element(lp_ref.begin(), lp_ref.end()) - lp_ref.begin();
        }
        if (progress) progress(w + 1, n_windows);
    }
    EvalResult r;
    r.positions = static_cast<int64_t>(kl.size());
    const double n = static_cast<double>(r.positions);
    r.ppl_model = std::exp(nll_model / n);
    r.ppl_ref = std::exp(nll_ref / n);
    for (double d : kl) r.kl_mean += d / n;
    std::vector<double> sorted = kl;
    std::sort(sorted.begin(), sorted.end());
    r.kl_p99 = sorted[std::min(sorted.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(sorted.size())))];
    r.kl_max = sorted.back();
    r.top1 = static_cast<double>(agree) / n;
    return r;
}

}  // namespace lmx
