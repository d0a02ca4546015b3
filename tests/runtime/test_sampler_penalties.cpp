// OpenAI's presence and frequency penalties: logit -= count * frequency + (count > 0) * presence
// over the last repeat_last_n accepted tokens. Greedy picks show which logits moved and by how much.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "runtime/sampler.hpp"

using namespace lmx;

namespace {
// Logits {2.0, 1.7}; token 0 was seen twice. Returns the greedy pick.
int32_t pick(float presence, float frequency, int last_n = 64, std::vector<int32_t> history = {0, 0}) {
    SamplingParams sp;
    sp.temperature = 0;
    sp.presence_penalty = presence;
    sp.frequency_penalty = frequency;
    sp.repeat_last_n = last_n;
    Sampler s(sp);
    for (int32_t t : history) s.accept(t);
    const std::vector<float> logits = {2.0f, 1.7f};
    return s.sample(logits.data(), 2);
}
}  // namespace

TEST(SamplerPenalties, PresenceCountsOnceFrequencyPerOccurrence) {
    EXPECT_EQ(pick(0, 0), 0);
    EXPECT_EQ(pick(0.2f, 0), 0);    // 2.0 - 0.2 = 1.8 > 1.7
    EXPECT_EQ(pick(0.4f, 0), 1);    // 2.0 - 0.4 = 1.6 < 1.7
    EXPECT_EQ(pick(0, 0.1f), 0);    // 2.0 - 2 * 0.1 = 1.8
    EXPECT_EQ(pick(0, 0.2f), 1);    // 2.0 - 2 * 0.2 = 1.6
    EXPECT_EQ(pick(0.1f, 0.05f), 0);  // 2.0 - 0.1 - 0.1 = 1.8
    EXPECT_EQ(pick(0.2f, 0.1f), 1);   // 2.0 - 0.2 - 0.2 = 1.6
    EXPECT_EQ(pick(-0.5f, 0), 0);     // negative values favour repetition
}

TEST(SamplerPenalties, OnlyTheLastNTokensCount) {
    EXPECT_EQ(pick(0.4f, 0, 1, {0, 0, 1}), 0);  // only token 1 is in the window: 2.0 vs 1.3
    EXPECT_EQ(pick(0.4f, 0, 2, {1, 0, 0}), 1);  // only token 0: 1.6 vs 1.7
    EXPECT_EQ(pick(0.4f, 0, 3, {1, 0, 0}), 0);  // both: 1.6 vs 1.3
}

TEST(SamplerPenalties, SampledTokensCountToo) {
    SamplingParams sp;
    sp.temperature = 0;
    sp.frequency_penalty = 0.2f;
    Sampler s(sp);
    const std::vector<float> logits = {2.0f, 1.7f};
    EXPECT_EQ(s.sample(logits.data(), 2), 0);
    EXPECT_EQ(s.sample(logits.data(), 2), 0);  // 1.8 > 1.7
    EXPECT_EQ(s.sample(logits.data(), 2), 1);  // 1.6 < 1.7
}

TEST(SamplerPenalties, OutOfRangeValuesAreRefused) {
    SamplingParams sp;
    sp.presence_penalty = 2.5f;
    EXPECT_THROW(Sampler{sp}, Error);
    sp.presence_penalty = 0;
    sp.frequency_penalty = -3;
    EXPECT_THROW(Sampler{sp}, Error);
}
