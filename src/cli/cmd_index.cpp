// lmx index add --db PATH FILES...   chunk, embed and store documents (.txt .md .html .pdf)
// lmx search --db PATH [-k K] QUERY  the chunks closest to the query
// PDF text comes from poppler's pdftotext (Debian poppler-utils), one page per form
// feed; the core stays free of it.
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/sha256.hpp"
#include "cli/commands.hpp"
#include "cli/embedder_options.hpp"
#include "cli/progress.hpp"
#include "runtime/chunker.hpp"
#include "runtime/html_text.hpp"
#include "runtime/vector_index.hpp"

namespace lmx::cli {

namespace fs = std::filesystem;

namespace {

struct IndexArgs {
    EmbedderArgs model;
    std::string db;
    std::vector<std::string> files;
    size_t chunk_size = 200, chunk_overlap = 30;
    size_t k = 5;
    std::string query;
};

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string lower_extension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

// pdftotext's text layer, pages separated by form feeds.
std::string pdf_text(const std::string& path) {
    std::string quoted = "'";
    for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    const std::string cmd = "pdftotext -layout -enc UTF-8 " + quoted + " - 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) fail("cannot run pdftotext for ", path);
    std::string out;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int status = ::pclose(p);
    if (status != 0)
        fail(path, ": pdftotext failed (exit status ", WEXITSTATUS(status),
             "); is poppler-utils installed (scripts/setup.sh) and is the file a valid PDF?");
    if (!out.empty() && out.back() == '\f') out.pop_back();  // pdftotext ends every page with one
    return out;
}

std::string document_text(const std::string& path, const std::string& bytes) {
    const std::string ext = lower_extension(path);
    if (ext == ".pdf") return pdf_text(path);
    if (ext == ".html" || ext == ".htm") return html_to_text(bytes);
    return bytes;
}

void index_add(const IndexArgs& a) {
    const auto embedder = load_embedder(a.model);
    VectorIndex ix = fs::exists(a.db) ? VectorIndex::load(a.db) : VectorIndex(embedder->model_id(), embedder->dims());
    if (ix.model_id() != embedder->model_id())
        fail(a.db, " was built with model ", ix.model_id(), "; this run uses ", embedder->model_id(),
             ". Use the same -m/--pooling/--normalize, or a new --db");
    ChunkerOptions co;
    co.chunk_size = a.chunk_size;
    co.chunk_overlap = a.chunk_overlap;
    const LengthFn tokens = [&](std::string_view s) { return embedder->tokenizer().encode(s, false, false).size(); };
    size_t n_added = 0, n_pages_total = 0;
    for (const std::string& file : a.files) {
        const std::string bytes = read_bytes(file);
        const std::string sha = sha256_hex(bytes.data(), bytes.size());
        const std::string key = fs::absolute(file).lexically_normal().string();
        if (ix.is_current(key, sha)) {
            std::fprintf(stderr, "lmx: %s is unchanged, skipped\n", file.c_str());
            continue;
        }
        const std::string text = document_text(file, bytes);
        // Pages are separated by form feeds (pdftotext) and chunked one by one, so each
        // chunk has one page; a page without text needs OCR.
        IndexedDocument doc{key, sha, 0};
        std::vector<IndexedChunk> entries;
        std::vector<std::string> texts;
        for (size_t page_begin = 0;;) {
            const size_t ff = std::min(text.find('\f', page_begin), text.size());
            const std::string_view page = std::string_view(text).substr(page_begin, ff - page_begin);
            doc.pages++;
            if (std::all_of(page.begin(), page.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
                std::fprintf(stderr, "lmx: warning: %s page %u has no text layer; it needs OCR and is not indexed\n", file.c_str(),
                             doc.pages);
            for (const Chunk& c : split_text(page, co, tokens)) {
                IndexedChunk e;
                e.begin = page_begin + c.begin;
                e.end = page_begin + c.end;
                e.page = doc.pages;
                e.line = 1 + static_cast<uint32_t>(std::count(page.begin(), page.begin() + static_cast<std::ptrdiff_t>(c.begin), '\n'));
                e.text = c.text;
                texts.push_back(c.text);
                entries.push_back(std::move(e));
            }
            if (ff == text.size()) break;
            page_begin = ff + 1;
        }
        n_pages_total += doc.pages;
        Progress progress(fs::path(file).filename().string(), texts.size());
        std::vector<float> vectors;
        const size_t step = 64;
        for (size_t i = 0; i < texts.size(); i += step) {
            const std::vector<std::string> part(texts.begin() + static_cast<std::ptrdiff_t>(i),
                                                texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), i + step)));
            for (const auto& v : embedder->embed(part)) vectors.insert(vectors.end(), v.begin(), v.end());
            progress.update(std::min(texts.size(), i + step));
        }
        progress.done();
        ix.put(doc, std::move(entries), vectors);
        ix.save(a.db);  // after every document: a crash loses at most the one in progress
        n_added++;
        std::fprintf(stderr, "lmx: %s: %u page(s), %zu chunks indexed\n", file.c_str(), doc.pages, texts.size());
    }
    std::fprintf(stderr, "lmx: %zu document(s) added, %zu pages; %s holds %zu documents, %zu chunks\n", n_added, n_pages_total,
                 a.db.c_str(), ix.documents().size(), ix.chunks().size());
}

void search(const IndexArgs& a) {
    if (!fs::exists(a.db)) fail(a.db, ": no such index; create it with `lmx index add --db ", a.db, " FILES...`");
    const VectorIndex ix = VectorIndex::load(a.db);
    const auto embedder = load_embedder(a.model);
    if (ix.model_id() != embedder->model_id())
        fail(a.db, " was built with model ", ix.model_id(), " but the query would be embedded with ", embedder->model_id(),
             "; vectors of different models cannot be compared. Pass the index's -m/--pooling/--normalize");
    const std::vector<float> q = embedder->embed({a.query})[0];
    int rank = 1;
    for (const SearchHit& h : ix.search(q.data(), a.k)) {
        const IndexedChunk& c = ix.chunks()[h.chunk];
        std::string snippet = c.text.substr(0, 160);
        std::replace(snippet.begin(), snippet.end(), '\n', ' ');
        std::printf("%d\t%.4f\t%s:%u:%u\t%s\n", rank++, static_cast<double>(h.score), ix.documents()[c.doc].path.c_str(), c.page,
                    c.line, snippet.c_str());
    }
}

}  // namespace

void add_index(CLI::App& app) {
    auto a = std::make_shared<IndexArgs>();
    CLI::App* index = app.add_subcommand("index", "build a semantic-search index of documents");
    index->require_subcommand(1);
    CLI::App* add = index->add_subcommand("add", "chunk, embed and store documents (.txt .md .html .pdf)");
    add_embedder_options(*add, a->model);
    add->add_option("--db", a->db, "index file (created when missing)")->required();
    add->add_option("--chunk-size", a->chunk_size, "tokens per chunk")->capture_default_str();
    add->add_option("--chunk-overlap", a->chunk_overlap, "tokens shared by neighbouring chunks")->capture_default_str();
    add->add_option("files", a->files, "documents")->required();
    add->callback([a] { index_add(*a); });

    CLI::App* s = app.add_subcommand("search", "the chunks of an index closest to a query");
    add_embedder_options(*s, a->model);
    s->add_option("--db", a->db, "index file")->required();
    s->add_option("-k", a->k, "results")->capture_default_str();
    s->add_option("query", a->query, "what to look for")->required();
    s->callback([a] { search(*a); });
}

}  // namespace lmx::cli
