// lmx eval's statistics: a model against itself is the zero point (KL 0, top-1 100%,
// equal perplexities), and the perplexity over one window equals the one token_logprobs
// (a separate code path) gives the same tokens.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.hpp"
#include "model_fixture.hpp"
#include "runtime/eval.hpp"
#include "runtime/logprobs.hpp"

using namespace lmx;

TEST(Eval, ModelAgainstItselfIsTheZeroPointAndPerplexityMatchesLogprobs) {
    REQUIRE_DEFAULT_MODEL();
    const auto model = default_model();
    const std::vector<int32_t> ids = model->tokenizer().encode(
        "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do.", true, false);
    ASSERT_GE(ids.size(), 20u);
    Session a(model, {2, 64, 1}), b(model, {2, 64, 1});
    const EvalResult whole = evaluate(a, b, ids, 64);
    EXPECT_EQ(whole.positions, static_cast<int64_t>(ids.size()) - 1);
    EXPECT_EQ(whole.kl_mean, 0.0);
    EXPECT_EQ(whole.kl_max, 0.0);
    EXPECT_EQ(whole.top1, 1.0);
    EXPECT_EQ(whole.ppl_model, whole.ppl_ref);

    Session s(model, {2, 64, 1});
    const TokenLogprobs lp = token_logprobs(s, ids);
    double nll = 0;
    for (double l : lp.logprob) nll -= l;
    EXPECT_NEAR(whole.ppl_model, std::exp(nll / static_cast<double>(lp.logprob.size())), 1e-6 * whole.ppl_model);

    // Short windows: every token after the first is still predicted exactly once; the
    // context is shorter, so the perplexity rises.
    const EvalResult windows = evaluate(a, b, ids, 8);
    EXPECT_EQ(windows.positions, whole.positions);
    EXPECT_GT(windows.ppl_model, whole.ppl_model);
    EXPECT_THROW(evaluate(a, b, ids, 1), Error);
    EXPECT_THROW(evaluate(a, b, {ids[0]}, 8), Error);
}
