// What the goldens cannot show: invalid UTF-8 (where lmx deliberately keeps the bytes,
// llama.cpp would substitute U+FFFD), linear time on long runs, errors that name the
// unsupported tokenizer, and the byte alphabet itself.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

TEST(TokenizerEdges, InvalidUtf8BecomesByteTokens) {
    const auto tok = test::load_tokenizer(test::llama_vocab_path("gpt-2"));
    for (int byte : {0x80, 0xBF, 0xC0, 0xC1, 0xE4, 0xF5, 0xFF}) {
        const std::string s(1, static_cast<char>(byte));
        const std::vector<int32_t> ids = tok->encode(s, false, false);
        ASSERT_EQ(ids.size(), 1u) << "byte " << byte;
        EXPECT_EQ(tok->token_text(ids[0]), unicode::byte_to_symbol(static_cast<uint8_t>(byte)));
        EXPECT_EQ(tok->token_bytes(ids[0]), s);
    }
    const std::string messy = "ok \xFF\xFE bad \xE4\xB8 cut \xC0\x80 overlong \xED\xA0\x80 surrogate \xF4\x90\x80\x80 end\xE4";
    EXPECT_EQ(tok->decode(tok->encode(messy, false, false)), messy);
}

TEST(TokenizerEdges, LongRunsTokenizeInLinearTime) {
    for (const std::string pre : {"gpt-2", "smollm", "llama-bpe", "qwen2", "deepseek-coder", "default"}) {
        const auto tok = test::gpt2_vocab_with_pre(pre);
        for (const std::string unit : {"a", " ", "\n", "1", "'", "!", "\xE4\xB8\xAD", "\xFF"}) {
            auto encode_run = [&](size_t bytes) {
                std::string text;
                while (text.size() + unit.size() <= bytes) text += unit;
                EXPECT_FALSE(tok->encode(text, false, false).empty());
            };
            const double growth = test::growth_factor(encode_run, 16u << 10);
            EXPECT_LT(growth, test::kMaxGrowth) << pre << ": 8x more of '" << unit << "' took " << growth << "x as long";
        }
    }
}

TEST(TokenizerEdges, UnsupportedModelIsNamed) {
    const std::string bytes = test::with_string(test::read_file(test::llama_vocab_path("llama-spm")),
                                                "tokenizer.ggml.model", "rwkv");
    try {
        Tokenizer::from_gguf(gguf::File::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "rwkv"));
        FAIL() << "an RWKV vocabulary loaded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model 'rwkv'"), std::string::npos) << e.what();
    }
}

TEST(TokenizerEdges, UnsupportedPreTokenizerIsNamed) {
    try {
        test::gpt2_vocab_with_pre("gpt-4o");
        FAIL() << "an unknown pre-tokenizer loaded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.pre 'gpt-4o'"), std::string::npos) << e.what();
    }
}

TEST(TokenizerEdges, IdsOutsideTheVocabularyAreRejected) {
    const auto tok = test::load_tokenizer(test::llama_vocab_path("gpt-2"));
    EXPECT_THROW(tok->decode({tok->n_vocab()}), Error);
    EXPECT_THROW(tok->token_bytes(-1), Error);
}

TEST(Unicode, ByteAlphabetIsGpt2s) {
    // Printable Latin-1 stands for itself; the rest map to U+0100.. in byte order.
    EXPECT_EQ(unicode::byte_to_symbol('A'), "A");
    EXPECT_EQ(unicode::byte_to_symbol(0xE9), "\xC3\xA9");   // é
    EXPECT_EQ(unicode::byte_to_symbol(0x00), "\xC4\x80");   // U+0100
    EXPECT_EQ(unicode::byte_to_symbol(' '), "\xC4\xA0");    // U+0120 'Ġ'
    EXPECT_EQ(unicode::byte_to_symbol('\n'), "\xC4\x8A");   // U+010A 'Ċ'
    EXPECT_EQ(unicode::byte_to_symbol(0xAD), "\xC5\x83");   // U+0143, the last one
    for (int b = 0; b < 256; ++b) {
        const std::vector<unicode::Char> c = unicode::decode_chars(unicode::byte_to_symbol(static_cast<uint8_t>(b)));
        ASSERT_EQ(c.size(), 1u);
        EXPECT_EQ(unicode::symbol_to_byte(c[0].cp), b);
    }
}

TEST(Unicode, Utf8SequenceLength) {
    using unicode::utf8_sequence_length;
    EXPECT_EQ(utf8_sequence_length("a", 0), 1);
    EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2);
    EXPECT_EQ(utf8_sequence_length("\xE4\xB8\xAD", 0), 3);
    EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x91\x8D", 0), 4);
    EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x91", 0), 0);   // incomplete
    EXPECT_EQ(utf8_sequence_length("\xE4", 0), 0);
    EXPECT_EQ(utf8_sequence_length("\x80", 0), -1);          // continuation byte
    EXPECT_EQ(utf8_sequence_length("\xC0\x80", 0), -1);      // overlong
    EXPECT_EQ(utf8_sequence_length("\xE0\x80\x80", 0), -1);  // overlong
    EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80", 0), -1);  // surrogate
    EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80", 0), -1);  // beyond U+10FFFF
    EXPECT_EQ(utf8_sequence_length("\xE4" "A", 0), -1);
}

}  // namespace
}  // namespace lmx
