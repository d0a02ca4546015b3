// The regex engine against what Oniguruma (HF's engine) does on the constructs
// tokenizer.json patterns use, and its linear time on inputs that make a plain
// backtracking engine quadratic.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer_test_util.hpp"

namespace lmx {
namespace {

// The matches as text, joined by '|'.
std::string matches(const std::string& pattern, const std::string& text) {
    const std::u32string t = unicode::to_code_points(text);
    std::string out;
    for (const Regex::Span& m : Regex(pattern).find_all(t)) {
        if (!out.empty()) out += '|';
        out += unicode::to_utf8(std::u32string_view(t).substr(m.begin, m.end - m.begin));
    }
    return out;
}

constexpr const char* kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

TEST(Regex, Llama3PatternSplitsLikeHf) {
    EXPECT_EQ(matches(kLlama3, "Hello world, it'S 12345!!\n\n  x  "), "Hello| world|,| it|'S| |123|45|!!\n\n| | x|  ");
    EXPECT_EQ(matches(kLlama3, "a\u017fb 'ſ"), "a\u017fb| '|ſ");  // 'ſ: long s folds to s inside (?i:)
    EXPECT_EQ(matches(kLlama3, "x'\u017f"), "x|'\u017f");
}

TEST(Regex, QuantifiersAndClasses) {
    EXPECT_EQ(matches("a+?", "aaa"), "a|a|a");
    EXPECT_EQ(matches("a{2,3}", "aaaaaaa"), "aaa|aaa");
    EXPECT_EQ(matches("[^a-c\\d]+", "xab1yz"), "x|yz");
    EXPECT_EQ(matches("\\p{Lu}\\p{Ll}+", "Hello World"), "Hello|World");
}

TEST(Regex, PossessiveAndLookahead) {
    EXPECT_EQ(matches("a*+a", "aaaa"), "");  // the possessive run gives nothing back
    EXPECT_EQ(matches("a++b", "aab"), "aab");
    EXPECT_EQ(matches("\\s+(?!\\S)", "a   b"), "  ");
    EXPECT_EQ(matches("x(?=y)", "xyxz"), "x");
}

TEST(Regex, UnsupportedConstructsAreNamed) {
    for (const char* p : {"(a)\\1", "(?<=a)b", "(?>ab)", "\\p{Greek}", "(ab)++", "a{3,1}", "[b-a]", "(a"}) {
        try {
            Regex r(p);
            ADD_FAILURE() << p << " compiled";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("regex"), std::string::npos) << e.what();
        }
    }
}

TEST(Regex, LinearOnBacktrackingTraps) {
    // Each start position fails a long greedy branch before a short one matches: a plain
    // backtracking engine takes n^2 steps here, the visited set keeps it linear.
    auto run = [](size_t n) {
        EXPECT_EQ(Regex("a+b|a").find_all(unicode::to_code_points(std::string(n, 'a'))).size(), n);
        EXPECT_EQ(Regex(kLlama3).find_all(unicode::to_code_points(std::string(n, ' ') + "x")).size(), 2u);
    };
    const double growth = test::growth_factor(run, 16u << 10);
    EXPECT_LT(growth, test::kMaxGrowth) << "8x longer input took " << growth << "x as long";
}

}  // namespace
}  // namespace lmx
