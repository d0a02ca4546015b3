// Retrieval sanity on public-domain text (tests/data/retrieval/README.md): five SQLite
// documentation pages indexed as `lmx index add` does, ten labelled questions. Reports
// recall@5 and checks that exact and approximate (HNSW) search return the same top 5.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "embed_fixture.hpp"
#include "runtime/chunker.hpp"
#include "runtime/html_text.hpp"
#include "runtime/vector_index.hpp"

using namespace lmx;

TEST(Retrieval, RecallAt5OnSqliteDocsAndExactEqualsApproximate) {
    REQUIRE_EMBED_MODEL();
    Embedder& e = *default_embedder();
    const std::string dir = LMX_SOURCE_DIR "/tests/data/retrieval/";
    auto slurp = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    const auto queries = nlohmann::json::parse(slurp(dir + "queries.json"));
    const std::vector<std::string> pages = {"autoinc.html", "lang_vacuum.html", "threadsafe.html", "whentouse.html", "limits.html"};

    VectorIndex ix(e.model_id(), e.dims());
    ChunkerOptions co;
    co.chunk_size = 128;
    co.chunk_overlap = 16;
    const LengthFn tokens = [&](std::string_view s) { return e.tokenizer().encode(s, false, false).size(); };
    for (const std::string& page : pages) {
        const std::string text = html_to_text(slurp(dir + page));
        std::vector<IndexedChunk> chunks;
        std::vector<std::string> texts;
        for (const Chunk& c : split_text(text, co, tokens)) {
            chunks.push_back({0, c.begin, c.end, 1, 1, c.text});
            texts.push_back(c.text);
        }
        std::vector<float> vectors;
        for (const auto& v : e.embed(texts)) vectors.insert(vectors.end(), v.begin(), v.end());
        ix.put({page, "", 1}, std::move(chunks), vectors);
    }

    size_t found = 0;
    for (const auto& q : queries) {
        const std::vector<float> v = e.embed({q["query"].get<std::string>()})[0];
        const auto exact = ix.search_exact(v.data(), 5), approx = ix.search_approximate(v.data(), 5);
        ASSERT_EQ(exact.size(), 5u);
        ASSERT_EQ(approx.size(), 5u);
        for (size_t i = 0; i < 5; i++) EXPECT_EQ(exact[i].chunk, approx[i].chunk) << q["query"] << " rank " << i + 1;
        found += std::any_of(exact.begin(), exact.end(), [&](const SearchHit& h) {
            return ix.documents()[ix.chunks()[h.chunk].doc].path == q["page"].get<std::string>();
        });
    }
    const double recall = double(found) / double(queries.size());
    std::printf("retrieval: %zu chunks from %zu pages, recall@5 %.2f (%zu of %zu questions)\n", ix.chunks().size(), pages.size(),
                recall, found, queries.size());
    EXPECT_GE(recall, 0.9);
}
