#include <gtest/gtest.h>

#include "base/error.hpp"
#include "model_fixture.hpp"
#include "runtime/generator.hpp"

using namespace lmx;

TEST(Generator, StreamedTextEqualsResultAndDecodedTokens) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {2, 256, 1});
    std::string streamed;
    GenerateResult r = generate(s, "Once upon a time", greedy(24), [&](std::string_view t) { streamed += t; return true; });
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.text, default_model()->tokenizer().decode(r.tokens));
    EXPECT_EQ(r.tokens.size(), 24u);
    EXPECT_EQ(r.finish_reason, "length");
}

TEST(Generator, StopStringEndsGenerationBeforeIt) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {2, 256, 1});
    GenerateResult full = generate(s, "Once upon a time", greedy(24));
    ASSERT_GT(full.text.size(), 12u);
    GenerateOptions o = greedy(24);
    const std::string stop = full.text.substr(8, 4);
    o.stop = {stop};
    std::string streamed;
    GenerateResult r = generate(s, "Once upon a time", o, [&](std::string_view t) { streamed += t; return true; });
    EXPECT_EQ(r.text, full.text.substr(0, full.text.find(stop)));
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.finish_reason, "stop");
}

TEST(Generator, SeededSamplingIsReproducible) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {2, 256, 1});
    GenerateOptions o;
    o.max_tokens = 16;
    o.sampling.seed = 7;
    EXPECT_EQ(generate(s, "The weather today", o).text, generate(s, "The weather today", o).text);
}

TEST(Generator, CallbackCanCancelAndOverlongPromptIsRefused) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {2, 32, 1});
    int calls = 0;
    GenerateResult r = generate(s, "Hello", greedy(20), [&](std::string_view) { return ++calls < 3; });
    EXPECT_EQ(calls, 3);
    EXPECT_LT(r.tokens.size(), 20u);
    std::string long_prompt;
    for (int i = 0; i < 100; i++) long_prompt += " word";
    EXPECT_THROW(generate(s, long_prompt, greedy(4)), Error);
}
