// StreamDecoder prints only whole UTF-8 characters: a character whose bytes arrive in
// several tokens is held back until complete, bytes that can never form one come out
// as U+FFFD, and flush() releases an incomplete tail as U+FFFD.
#include <gtest/gtest.h>

#include "tokenizer/unicode.hpp"
#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

bool valid_utf8(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        const int n = unicode::utf8_sequence_length(s, i);
        if (n <= 0) return false;
        i += static_cast<size_t>(n);
    }
    return true;
}

class StreamDecoderTest : public ::testing::Test {
protected:
    void SetUp() override { tok_ = test::load_tokenizer(test::llama_vocab_path("gpt-2")); }
    // The token of one raw byte (GPT-2 has all 256).
    int32_t byte_token(char byte) const {
        const std::vector<int32_t> ids = tok_->encode(std::string(1, byte), false, false);
        EXPECT_EQ(ids.size(), 1u);
        return ids.at(0);
    }
    std::unique_ptr<Tokenizer> tok_;
};

TEST_F(StreamDecoderTest, CharactersSplitAcrossTokensComeOutWhole) {
    const std::string text = "h\xC3\xA9llo \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD done";  // héllo 中文 👍🏽 done
    StreamDecoder dec(*tok_);
    std::string out;
    int held_back = 0;
    for (int32_t id : tok_->encode(text, false, false)) {
        const std::string piece = dec.push(id);
        EXPECT_TRUE(valid_utf8(piece));
        if (piece != tok_->token_bytes(id)) ++held_back;
        out += piece;
    }
    out += dec.flush();
    EXPECT_EQ(out, text);
    EXPECT_GT(held_back, 0) << "no token of this text splits a character; the test proves nothing";
}

TEST_F(StreamDecoderTest, EmojiByteByByte) {
    StreamDecoder dec(*tok_);
    EXPECT_EQ(dec.push(byte_token('\xF0')), "");
    EXPECT_EQ(dec.push(byte_token('\x9F')), "");
    EXPECT_EQ(dec.push(byte_token('\x91')), "");
    EXPECT_EQ(dec.push(byte_token('\x8D')), "\xF0\x9F\x91\x8D");
    EXPECT_EQ(dec.flush(), "");
}

TEST_F(StreamDecoderTest, InvalidBytesBecomeReplacementCharacters) {
    StreamDecoder dec(*tok_);
    EXPECT_EQ(dec.push(byte_token('\xFF')), kFffd);             // never valid
    EXPECT_EQ(dec.push(byte_token('\x80')), kFffd);             // stray continuation byte
    EXPECT_EQ(dec.push(byte_token('\xE4')), "");                // may still complete...
    EXPECT_EQ(dec.push(byte_token('A')), kFffd + "A");          // ...but did not
    EXPECT_EQ(dec.push(byte_token('\xC0')), kFffd);             // overlong lead byte
    EXPECT_EQ(dec.push(byte_token('\xE4')), "");
    EXPECT_EQ(dec.push(byte_token('\xB8')), "");
    EXPECT_EQ(dec.flush(), kFffd);                              // incomplete at the end
    EXPECT_EQ(dec.flush(), "");
}

TEST_F(StreamDecoderTest, ControlTokensPrintNothing) {
    StreamDecoder dec(*tok_);
    EXPECT_EQ(dec.push(50256), "");  // <|endoftext|>
    EXPECT_EQ(tok_->decode({50256}), "<|endoftext|>");
    EXPECT_EQ(tok_->decode({50256}, true), "");
}

}  // namespace
}  // namespace lmx
