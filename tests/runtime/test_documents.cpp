// Documents and index: chunking against LangChain's RecursiveCharacterTextSplitter
// (tests/goldens/embeddings/chunks.json from tools/gen_embedding_goldens.py chunks),
// HTML text extraction, and the persistent index (save/load, replace, exact search,
// corrupt files).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "base/error.hpp"
#include "embed_fixture.hpp"
#include "runtime/chunker.hpp"
#include "runtime/html_text.hpp"
#include "runtime/vector_index.hpp"

using namespace lmx;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST(Chunker, MatchesLangChainRecursiveSplitterInTokens) {
    REQUIRE_EMBED_MODEL();
    const Tokenizer& tok = default_embedder()->tokenizer();
    const LengthFn tokens = [&](std::string_view s) { return tok.encode(s, false, false).size(); };
    const auto cases = nlohmann::json::parse(slurp(LMX_SOURCE_DIR "/tests/goldens/embeddings/chunks.json"));
    ASSERT_EQ(cases.size(), 9u);
    for (const auto& c : cases) {
        const std::string text = slurp(LMX_SOURCE_DIR "/tests/data/chunking/" + c["file"].get<std::string>());
        ChunkerOptions o;
        o.chunk_size = c["chunk_size"];
        o.chunk_overlap = c["chunk_overlap"];
        const std::vector<Chunk> got = split_text(text, o, tokens);
        const auto want = c["chunks"].get<std::vector<std::string>>();
        ASSERT_EQ(got.size(), want.size()) << c["file"] << " size " << o.chunk_size;
        for (size_t i = 0; i < got.size(); i++) {
            EXPECT_EQ(got[i].text, want[i]) << c["file"] << " size " << o.chunk_size << " chunk " << i;
            EXPECT_EQ(text.substr(got[i].begin, got[i].end - got[i].begin), got[i].text);
        }
    }
}

TEST(Chunker, RejectsOverlapLargerThanSize) {
    ChunkerOptions o;
    o.chunk_size = 10;
    o.chunk_overlap = 11;
    EXPECT_THROW(split_text("x", o, [](std::string_view s) { return s.size(); }), Error);
}

TEST(HtmlText, DropsTagsScriptsAndDecodesReferences) {
    const std::string html =
        "<html><head><title>T</title><style>p{}</style></head><body><h1>Caf&eacute; &amp; more</h1>"
        "<p>One&nbsp;two &#233;&#x2014; &bogus; <b>bold</b></p><script>var x = '<p>';</SCRIPT><!-- c --><div>end</div>";
    EXPECT_EQ(html_to_text(html), "\nCafé & more\nOne\u00a0two é— &bogus; bold\nend\n");
    EXPECT_EQ(html_to_text("<p unterminated"), "");
    EXPECT_EQ(html_to_text("&#99999999;"), "\uFFFD");
}

TEST(VectorIndex, SavesLoadsReplacesAndSearchesExactly) {
    const std::string path = ::testing::TempDir() + "lmx_test_index.lmxdb";
    VectorIndex ix("model-a", 3);
    ix.put({"/a.txt", "sha-a", 1}, {{0, 0, 5, 1, 1, "alpha"}, {0, 6, 10, 1, 2, "beta"}}, {1, 0, 0, 0, 2, 0});
    ix.put({"/b.txt", "sha-b", 2}, {{0, 0, 4, 2, 7, "gamma"}}, {0, 0, -3});
    ix.save(path);

    const VectorIndex back = VectorIndex::load(path);
    EXPECT_EQ(back.model_id(), "model-a");
    ASSERT_EQ(back.chunks().size(), 3u);
    EXPECT_EQ(back.chunks()[2].doc, 1u);
    EXPECT_EQ(back.chunks()[2].page, 2u);
    EXPECT_EQ(back.chunks()[2].line, 7u);
    EXPECT_TRUE(back.is_current("/a.txt", "sha-a"));
    EXPECT_FALSE(back.is_current("/a.txt", "changed"));
    const float q[] = {0.1f, 1.0f, 0.0f};
    const auto hits = back.search(q, 2);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(back.chunks()[hits[0].chunk].text, "beta");
    EXPECT_NEAR(hits[0].score, 1.0 / std::sqrt(1.01), 1e-6);
    EXPECT_EQ(back.chunks()[hits[1].chunk].text, "alpha");

    // A new version of a.txt replaces its chunks; b.txt's stay and are renumbered.
    VectorIndex changed = VectorIndex::load(path);
    changed.put({"/a.txt", "sha-a2", 1}, {{0, 0, 5, 1, 1, "delta"}}, {0, 0, 1});
    ASSERT_EQ(changed.documents().size(), 2u);
    ASSERT_EQ(changed.chunks().size(), 2u);
    EXPECT_EQ(changed.chunks()[0].text, "gamma");
    EXPECT_EQ(changed.chunks()[0].doc, 0u);
    EXPECT_EQ(changed.documents()[0].path, "/b.txt");
    const float down[] = {0, 0, -1};
    EXPECT_EQ(changed.chunks()[changed.search(down, 1)[0].chunk].text, "gamma");
    std::remove(path.c_str());
}

TEST(VectorIndex, ApproximateSearchAgreesWithExactAtSmallSizes) {
    // 3000 random unit vectors in 64 dims and 100 queries near some of them.
    const int d = 64;
    VectorIndex ix("m", d);
    std::mt19937 rng(7);
    std::normal_distribution<float> g;
    std::vector<float> v(3000 * d);
    for (float& x : v) x = g(rng);
    ix.put({"/a", "s", 1}, std::vector<IndexedChunk>(3000), v);
    size_t same_top1 = 0, overlap10 = 0;
    for (int qi = 0; qi < 100; qi++) {
        std::vector<float> q(v.begin() + qi * 29 * d, v.begin() + (qi * 29 + 1) * d);
        for (float& x : q) x += 0.5f * g(rng);
        const auto exact = ix.search_exact(q.data(), 10), approx = ix.search_approximate(q.data(), 10);
        ASSERT_EQ(approx.size(), 10u);
        same_top1 += exact[0].chunk == approx[0].chunk;
        for (const auto& a : approx)
            for (const auto& e : exact) overlap10 += a.chunk == e.chunk;
    }
    EXPECT_EQ(same_top1, 100u);
    EXPECT_GE(overlap10, 990u);  // recall@10 >= 99%
    std::printf("HNSW vs exact on 3000 vectors: top-1 equal %zu/100, recall@10 %.3f\n", same_top1, overlap10 / 1000.0);
}

TEST(VectorIndex, CorruptFilesThrowNamingTheProblem) {
    const std::string path = ::testing::TempDir() + "lmx_test_index2.lmxdb";
    VectorIndex ix("m", 2);
    ix.put({"/a", "s", 1}, {{0, 0, 1, 1, 1, "x"}}, {1, 2});
    ix.save(path);
    std::string bytes = slurp(path);
    auto parse = [](const std::string& b) {
        try {
            VectorIndex::parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "t.lmxdb");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(parse(bytes), "");
    EXPECT_NE(parse(bytes.substr(0, bytes.size() - 4)).find("truncated"), std::string::npos);
    EXPECT_NE(parse("NOTANIDX" + bytes.substr(8)).find("not an lmx index"), std::string::npos);
    std::string wrong_version = bytes;
    wrong_version[8] = 9;
    EXPECT_NE(parse(wrong_version).find("version 9"), std::string::npos);
    std::string bad_json = bytes;
    bad_json[24] = '[';
    EXPECT_NE(parse(bad_json).find("corrupt"), std::string::npos);
    EXPECT_THROW(VectorIndex::load(path + ".missing"), Error);
    std::remove(path.c_str());
}
