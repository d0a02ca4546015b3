#include <gtest/gtest.h>

#include "model_fixture.hpp"
#include "runtime/chat.hpp"

using namespace lmx;

TEST(Chat, RendersTheModelsOwnTemplate) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {2, 512, 1});
    ChatSession chat(s, "You are terse.");
    EXPECT_EQ(chat.render(false), "<|im_start|>system\nYou are terse.<|im_end|>\n");
    ChatSession no_system(s);
    no_system.send("Hi", greedy(1));
    ASSERT_EQ(no_system.messages().size(), 2u);
    EXPECT_EQ(no_system.render(false).rfind("<|im_start|>system\nYou are a helpful AI assistant named SmolLM", 0), 0u)
        << "SmolLM2's template adds its default system prompt";
    no_system.reset();
    EXPECT_TRUE(no_system.messages().empty());
}

// A second turn decodes only what follows the cached prefix, and replies exactly as a
// fresh session that decodes the whole conversation from scratch (greedy).
TEST(Chat, PrefixReuseRepliesLikeAFreshSession) {
    REQUIRE_DEFAULT_MODEL();
    Session s(default_model(), {2, 1024, 1});
    ChatSession chat(s, "You are a helpful assistant.");
    std::string streamed;
    const ChatTurn first = chat.send("What is the capital of France?", greedy(16), [&](std::string_view t) {
        streamed += t;
        return true;
    });
    EXPECT_EQ(streamed, first.result.text);
    EXPECT_EQ(first.reused_tokens, 0u);
    ASSERT_FALSE(first.result.text.empty());

    const ChatTurn second = chat.send("And of Italy?", greedy(16));
    EXPECT_GT(second.reused_tokens, first.result.prompt_tokens.size()) << "the first turn and most of its reply stay cached";
    EXPECT_LT(second.reused_tokens, second.result.prompt_tokens.size());
    ASSERT_EQ(chat.messages().size(), 5u);
    EXPECT_EQ(chat.messages()[4].content, second.result.text);
    ASSERT_FALSE(second.result.tokens.empty());

    // The same rendered conversation, decoded in one go by a fresh session.
    const Tokenizer& tok = default_model()->tokenizer();
    Session fresh(default_model(), {2, 1024, 1});
    GenerateOptions o = greedy(16);
    o.add_special = false;  // the template writes any BOS itself
    const GenerateResult ref = generate(fresh, tok.decode(second.result.prompt_tokens), o);
    ASSERT_EQ(ref.prompt_tokens, second.result.prompt_tokens);
    EXPECT_EQ(ref.tokens, second.result.tokens);
    EXPECT_EQ(ref.text, second.result.text);

    // After /reset the system prompt's tokens are still cached and reused.
    chat.reset();
    const ChatTurn again = chat.send("What is the capital of France?", greedy(16));
    EXPECT_GT(again.reused_tokens, 0u);
    EXPECT_EQ(again.result.tokens, first.result.tokens);
}
