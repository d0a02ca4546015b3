// token_logprobs (lmx logprobs, the Python binding) against a log-softmax computed here
// from the session's logits, and the self-check forward both surfaces print.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "base/error.hpp"
#include "model_fixture.hpp"
#include "runtime/logprobs.hpp"
#include "runtime/self_check.hpp"

using namespace lmx;

TEST(TokenLogprobs, MatchLogSoftmaxOfTheLogitsAndRankTheTopTokens) {
    REQUIRE_DEFAULT_MODEL();
    const auto model = default_model();
    const std::vector<int32_t> ids = model->tokenizer().encode("The capital of France is Paris.", true, false);
    ASSERT_GE(ids.size(), 5u);
    const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);

    Session ref(model, {2, 64, 1});
    Batch batch;
    for (size_t i = 0; i + 1 < ids.size(); i++) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
    const std::vector<float> logits = ref.decode(batch);

    Session s(model, {2, 64, 1});
    const TokenLogprobs lp = token_logprobs(s, ids, 5, /*n_batch=*/3);  // several passes
    ASSERT_EQ(lp.logprob.size(), ids.size() - 1);
    ASSERT_EQ(lp.top, 5);
    for (size_t i = 0; i + 1 < ids.size(); i++) {
        const float* l = logits.data() + i * n_vocab;
        double z = 0;
        for (size_t v = 0; v < n_vocab; v++) z += std::exp(static_cast<double>(l[v]));
        EXPECT_NEAR(lp.logprob[i], l[ids[i + 1]] - std::log(z), 1e-3) << "position " << i + 1;
        const int32_t argmax = static_cast<int32_t>(std::max_element(l, l + n_vocab) - l);
        EXPECT_EQ(lp.top_ids[i * 5], argmax) << "position " << i + 1;
        for (size_t j = 1; j < 5; j++) EXPECT_GE(lp.top_logprob[i * 5 + j - 1], lp.top_logprob[i * 5 + j]);
    }
}

TEST(TokenLogprobs, RefusesEmptyInputAndIdsOutsideTheVocabulary) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {1, 16, 1});
    EXPECT_THROW(token_logprobs(s, {}), Error);
    EXPECT_THROW(token_logprobs(s, {1, default_model()->config().n_vocab}), Error);
    EXPECT_TRUE(token_logprobs(s, {1}).logprob.empty());  // one token: nothing to predict
}

TEST(SelfCheck, RunsOneFiniteForwardPass) {
    REQUIRE_DEFAULT_MODEL();
    const SelfCheck sc = self_check(default_model(), 1);
    EXPECT_FALSE(sc.isa.empty());
    EXPECT_EQ(sc.n_threads, 1);
    EXPECT_GT(sc.forward_ms, 0);
    EXPECT_GT(sc.kv_bytes, 0u);
}
