// Continuous batching: requests that decode together, queue, get cancelled or reuse a
// cached prefix produce exactly what each produces alone with generate() (whose
// greedy text matches llama.cpp, test_llama_goldens.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "base/error.hpp"
#include "model_fixture.hpp"
#include "runtime/generator.hpp"
#include "runtime/scheduler.hpp"

using namespace lmx;

namespace {

const std::vector<std::string> kPrompts = {
    "The capital of France is",
    "Write a short poem about the sea.\nThe sea",
    "1, 2, 3, 4,",
    "<|im_start|>user\nWhat is the tallest mountain on Earth?<|im_end|>\n<|im_start|>assistant\n",
    "In a distant galaxy, a small robot",
};

SamplingParams greedy() {
    SamplingParams s;
    s.temperature = 0;
    return s;
}

GenerateResult alone(const std::string& prompt, int max_tokens, int64_t n_ctx = 512, std::vector<std::string> stop = {}) {
    Session session(default_model(), {1, n_ctx, 1});
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling = greedy();
    o.stop = std::move(stop);
    return generate(session, prompt, o);
}

// Collects each request's streamed text and outcome.
struct Collector {
    std::map<int, std::string> streamed;
    std::map<int, Outcome> outcomes;
    Request request(int key, const std::string& prompt, int max_tokens) {
        Request r;
        r.prompt = default_model()->tokenizer().encode(prompt, true, true);
        r.max_tokens = max_tokens;
        r.sampling = greedy();
        r.on_piece = [this, key](const Piece& p) {
            streamed[key] += p.text;
            return true;
        };
        r.on_done = [this, key](const Outcome& o) { outcomes[key] = o; };
        return r;
    }
};

void run_until_idle(Scheduler& s) {
    for (int i = 0; i < 100000 && s.step(); i++) {
    }
}

}  // namespace

TEST(Scheduler, ConcurrentGreedyRequestsMatchEachAlone) {
    REQUIRE_DEFAULT_MODEL();
    // A small batch so long prompts are split into chunks interleaved with decoding.
    Scheduler sched(default_model(), {4, 512, 1, 8, 16});
    Collector c;
    const int n = 24;
    // Two now, the rest after a few steps: their prompts are processed while the first decode.
    for (int i = 0; i < 2; i++) ASSERT_TRUE(sched.submit(c.request(i, kPrompts[size_t(i)], n)));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(sched.step());
    for (int i = 2; i < 5; i++) ASSERT_TRUE(sched.submit(c.request(i, kPrompts[size_t(i)], n)));
    run_until_idle(sched);
    ASSERT_EQ(c.outcomes.size(), kPrompts.size());
    for (int i = 0; i < 5; i++) {
        const GenerateResult ref = alone(kPrompts[size_t(i)], n);
        const Outcome& o = c.outcomes[i];
        EXPECT_EQ(o.text, ref.text) << "prompt " << i;
        EXPECT_EQ(c.streamed[i], ref.text) << "prompt " << i;
        EXPECT_EQ(o.tokens, ref.tokens) << "prompt " << i;
        EXPECT_EQ(o.finish_reason, ref.finish_reason) << "prompt " << i;
        EXPECT_EQ(o.prompt_tokens, ref.prompt_tokens.size());
    }
    const SchedulerStats st = sched.stats();
    EXPECT_EQ(st.active, 0);
    EXPECT_EQ(st.queued, 0u);
}

TEST(Scheduler, QueuesBeyondTheSlotsAndRefusesBeyondTheQueue) {
    REQUIRE_DEFAULT_MODEL();
    Scheduler sched(default_model(), {2, 256, 1, 64, 3});
    Collector c;
    for (int i = 0; i < 3; i++) ASSERT_TRUE(sched.submit(c.request(i, kPrompts[size_t(i)], 8)));
    EXPECT_FALSE(sched.submit(c.request(3, kPrompts[3], 8))) << "a full queue must refuse";
    EXPECT_EQ(sched.stats().queued, 3u);
    ASSERT_TRUE(sched.step());
    EXPECT_EQ(sched.stats().active, 2);
    EXPECT_EQ(sched.stats().queued, 1u);
    EXPECT_GT(sched.stats().kv_used, 0);
    run_until_idle(sched);
    ASSERT_EQ(c.outcomes.size(), 3u);
    for (int i = 0; i < 3; i++) EXPECT_EQ(c.outcomes[i].text, alone(kPrompts[size_t(i)], 8).text);
    EXPECT_EQ(sched.stats().kv_used, 0);
}

TEST(Scheduler, CancellationFreesTheSlotForTheQueue) {
    REQUIRE_DEFAULT_MODEL();
    Scheduler sched(default_model(), {1, 256, 1, 64, 8});
    Collector c;
    // Request 0 cancels itself from its callback after two pieces.
    Request r0 = c.request(0, kPrompts[0], 100);
    int pieces = 0;
    r0.on_piece = [&](const Piece&) { return ++pieces < 2; };
    ASSERT_TRUE(sched.submit(std::move(r0)));
    const auto id1 = sched.submit(c.request(1, kPrompts[1], 100));
    const auto id2 = sched.submit(c.request(2, kPrompts[2], 100));
    const auto id3 = sched.submit(c.request(3, kPrompts[4], 12));
    ASSERT_TRUE(id1 && id2 && id3);
    sched.cancel(*id2);  // still queued
    while (!c.outcomes.count(0)) ASSERT_TRUE(sched.step());
    EXPECT_EQ(c.outcomes[0].finish_reason, "cancelled");
    EXPECT_EQ(c.outcomes[0].tokens.size(), 2u);
    // Request 1 gets the slot at the next step; cancel it while it runs.
    ASSERT_TRUE(sched.step());
    EXPECT_EQ(c.outcomes[2].finish_reason, "cancelled");
    EXPECT_EQ(sched.stats().active, 1);
    sched.cancel(*id1);
    ASSERT_TRUE(sched.step());
    EXPECT_EQ(c.outcomes[1].finish_reason, "cancelled");
    run_until_idle(sched);
    EXPECT_EQ(c.outcomes[3].finish_reason, "length");
    EXPECT_EQ(c.outcomes[3].text, alone(kPrompts[4], 12).text);
    // Shutdown: everything queued or running ends at the next step.
    ASSERT_TRUE(sched.submit(c.request(4, kPrompts[0], 50)));
    ASSERT_TRUE(sched.submit(c.request(5, kPrompts[1], 50)));
    ASSERT_TRUE(sched.step());
    sched.cancel_all();
    ASSERT_TRUE(sched.step());
    EXPECT_EQ(c.outcomes[4].finish_reason, "cancelled");
    EXPECT_EQ(c.outcomes[5].finish_reason, "cancelled");
    EXPECT_EQ(sched.stats().active, 0);
    EXPECT_FALSE(sched.step());
}

TEST(Scheduler, NextChatTurnReusesTheCachedPrefix) {
    REQUIRE_DEFAULT_MODEL();
    Scheduler sched(default_model(), {2, 512, 1, 64, 8});
    Collector c;
    const std::string turn1 = kPrompts[3];
    ASSERT_TRUE(sched.submit(c.request(0, turn1, 16)));
    run_until_idle(sched);
    // The next turn arrives with an unrelated request queued before it: that one takes the
    // least recently used slot, the next turn the slot holding the conversation.
    const std::string turn2 = turn1 + c.outcomes[0].text + "<|im_end|>\n<|im_start|>user\nAnd the second?<|im_end|>\n<|im_start|>assistant\n";
    ASSERT_TRUE(sched.submit(c.request(1, kPrompts[0], 4)));
    ASSERT_TRUE(sched.submit(c.request(2, turn2, 16)));
    ASSERT_TRUE(sched.step());
    EXPECT_EQ(sched.stats().active, 2) << "both free slots must be filled";
    run_until_idle(sched);
    const Outcome& o = c.outcomes[2];
    const size_t turn1_tokens = c.outcomes[0].prompt_tokens;
    EXPECT_GE(o.cached_tokens, turn1_tokens) << "the first turn's prompt must come from the cache";
    EXPECT_LT(o.cached_tokens, o.prompt_tokens);
    EXPECT_EQ(c.outcomes[1].cached_tokens, 0u);
    EXPECT_EQ(o.text, alone(turn2, 16).text);
    EXPECT_EQ(c.outcomes[1].text, alone(kPrompts[0], 4).text);
}

TEST(Scheduler, StopStringsAndFullContextEndLikeGenerate) {
    REQUIRE_DEFAULT_MODEL();
    const GenerateResult full = alone(kPrompts[1], 24);
    ASSERT_GT(full.text.size(), 12u);
    const std::string stop = full.text.substr(8, 3);
    Scheduler sched(default_model(), {2, 40, 1, 64, 8});
    Collector c;
    Request r = c.request(0, kPrompts[1], 24);
    r.stop = {stop};
    ASSERT_TRUE(sched.submit(std::move(r)));
    // A slot of 40 positions: generation ends when it is full.
    const auto long_prompt = default_model()->tokenizer().encode(kPrompts[3], true, true);
    ASSERT_LT(long_prompt.size(), 40u);
    ASSERT_TRUE(sched.submit(c.request(1, kPrompts[3], 100)));
    run_until_idle(sched);
    const GenerateResult ref_stop = alone(kPrompts[1], 24, 512, {stop});
    EXPECT_EQ(c.outcomes[0].text, ref_stop.text);
    EXPECT_EQ(c.streamed[0], ref_stop.text);
    EXPECT_EQ(c.outcomes[0].finish_reason, "stop");
    const GenerateResult ref_ctx = alone(kPrompts[3], 100, 40);
    EXPECT_EQ(c.outcomes[1].tokens, ref_ctx.tokens);
    EXPECT_EQ(c.outcomes[1].finish_reason, ref_ctx.finish_reason);
}

TEST(Scheduler, LogprobsDescribeTheModelsDistribution) {
    REQUIRE_DEFAULT_MODEL();
    Scheduler sched(default_model(), {1, 256, 1, 64, 8});
    std::vector<SampledToken> seen;
    Outcome out;
    Request r;
    r.prompt = default_model()->tokenizer().encode(kPrompts[0], true, true);
    r.max_tokens = 6;
    r.sampling = greedy();
    r.top_logprobs = 5;
    r.on_piece = [&](const Piece& p) {
        seen.insert(seen.end(), p.tokens.begin(), p.tokens.end());
        return true;
    };
    r.on_done = [&](const Outcome& o) { out = o; };
    ASSERT_TRUE(sched.submit(std::move(r)));
    run_until_idle(sched);
    ASSERT_EQ(seen.size(), out.tokens.size());
    for (size_t i = 0; i < seen.size(); i++) {
        const SampledToken& s = seen[i];
        EXPECT_EQ(s.token.id, out.tokens[i]);
        ASSERT_EQ(s.top.size(), 5u);
        EXPECT_EQ(s.top[0].id, s.token.id) << "greedy picks the most likely token";
        EXPECT_FLOAT_EQ(s.top[0].logprob, s.token.logprob);
        double mass = 0;
        for (size_t k = 0; k < s.top.size(); k++) {
            mass += std::exp(s.top[k].logprob);
            if (k > 0) {
                EXPECT_LE(s.top[k].logprob, s.top[k - 1].logprob);
            }
        }
        EXPECT_LE(mass, 1.0 + 1e-5);
        EXPECT_LT(s.token.logprob, 0.0f);
    }
}

TEST(Scheduler, RefusesPromptsThatCannotRun) {
    REQUIRE_DEFAULT_MODEL();
    Scheduler sched(default_model(), {1, 16, 1, 64, 8});
    Request r;
    EXPECT_THROW(sched.submit(r), Error);  // empty
    r.prompt.assign(16, 1);
    EXPECT_THROW(sched.submit(r), Error);  // fills the context
    r.prompt = {1, 2, default_model()->config().n_vocab};
    EXPECT_THROW(sched.submit(r), Error);  // not a token
    r.prompt = {1, 2};
    r.sampling.top_p = 0;
    EXPECT_THROW(sched.submit(r), Error);
    EXPECT_FALSE(sched.step());
}
