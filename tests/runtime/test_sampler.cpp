#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "base/error.hpp"
#include "runtime/sampler.hpp"

using namespace lmx;

namespace {
std::vector<float> logits_from_probs(const std::vector<double>& p) {
    std::vector<float> l;
    for (double x : p) l.push_back(static_cast<float>(std::log(x)));
    return l;
}
std::map<int32_t, int> histogram(SamplingParams sp, const std::vector<float>& logits, int draws) {
    Sampler s(sp);
    std::map<int32_t, int> h;
    for (int i = 0; i < draws; i++) h[s.sample(logits.data(), static_cast<int32_t>(logits.size()))]++;
    return h;
}
}  // namespace

TEST(Sampler, GreedyPicksArgmax) {
    SamplingParams sp;
    sp.temperature = 0;
    Sampler s(sp);
    std::vector<float> l = {0.1f, 3.0f, -1.0f, 2.9f};
    EXPECT_EQ(s.sample(l.data(), 4), 1);
}

TEST(Sampler, SameSeedSameSequence) {
    SamplingParams sp;
    sp.seed = 42;
    std::vector<float> l = logits_from_probs({0.2, 0.2, 0.2, 0.2, 0.2});
    Sampler a(sp), b(sp);
    std::vector<int32_t> xa, xb;
    for (int i = 0; i < 50; i++) {
        xa.push_back(a.sample(l.data(), 5));
        xb.push_back(b.sample(l.data(), 5));
    }
    EXPECT_EQ(xa, xb);
    a.reset();
    for (int i = 0; i < 50; i++) EXPECT_EQ(a.sample(l.data(), 5), xa[size_t(i)]);
}

TEST(Sampler, TemperatureOneDrawsFromTheDistribution) {
    SamplingParams sp;
    sp.temperature = 1;
    sp.top_k = 0;
    sp.top_p = 1;
    sp.min_p = 0;
    auto h = histogram(sp, logits_from_probs({0.5, 0.3, 0.2}), 20000);
    EXPECT_NEAR(h[0] / 20000.0, 0.5, 0.02);
    EXPECT_NEAR(h[1] / 20000.0, 0.3, 0.02);
    EXPECT_NEAR(h[2] / 20000.0, 0.2, 0.02);
}

TEST(Sampler, TruncationStages) {
    auto l = logits_from_probs({0.5, 0.3, 0.15, 0.05});
    SamplingParams sp;
    sp.temperature = 1;
    sp.top_p = 1;
    sp.min_p = 0;
    sp.top_k = 2;
    auto h = histogram(sp, l, 2000);
    EXPECT_EQ(h.count(2) + h.count(3), 0u);  // top-k 2 keeps ids 0 and 1
    sp.top_k = 0;
    sp.top_p = 0.85f;  // 0.5 + 0.3 = 0.8 < 0.85, so 0.15 is needed too
    h = histogram(sp, l, 2000);
    EXPECT_GT(h[2], 0);
    EXPECT_EQ(h.count(3), 0u);
    sp.top_p = 1;
    sp.min_p = 0.4f;  // keeps p >= 0.2: ids 0 and 1
    h = histogram(sp, l, 2000);
    EXPECT_EQ(h.count(2) + h.count(3), 0u);
}

TEST(Sampler, RepeatPenaltyDemotesSeenTokens) {
    SamplingParams sp;
    sp.temperature = 0;
    sp.repeat_penalty = 2.0f;
    Sampler s(sp);
    std::vector<float> l = {2.0f, 1.5f};
    s.accept(0);  // 2.0 / 2 = 1.0 < 1.5
    EXPECT_EQ(s.sample(l.data(), 2), 1);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountTheWindow) {
    SamplingParams sp;
    sp.temperature = 0;
    sp.presence_penalty = 1.0f;
    sp.frequency_penalty = 0.5f;
    sp.repeat_last_n = 3;
    Sampler s(sp);
    std::vector<float> l = {3.0f, 1.1f, 0.0f};
    s.accept(0);
    s.accept(0);  // 3.0 - (2 * 0.5 + 1) = 1.0 < 1.1
    EXPECT_EQ(s.sample(l.data(), 3), 1);  // the window now holds 0, 0, 1
    s.accept(2);
    s.accept(2);  // 0 left the window: 3.0 wins again
    EXPECT_EQ(s.sample(l.data(), 3), 0);
}

TEST(Sampler, RejectsInvalidParameters) {
    SamplingParams sp;
    sp.top_p = 0;
    EXPECT_THROW(Sampler{sp}, Error);
    sp = {};
    sp.temperature = -1;
    EXPECT_THROW(Sampler{sp}, Error);
}
