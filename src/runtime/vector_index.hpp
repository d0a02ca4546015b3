#pragma once
// A persistent semantic-search index in one file (layout in docs/index-format.md): the
// documents (path, content SHA256, pages), their chunks (byte range, page, line,
// text) and one L2-normalized float vector per chunk, tied to the embedding model that
// made them. Saving is atomic (temp file + fsync + rename), so a crash leaves the last
// saved index intact.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lmx {

struct IndexedDocument {
    std::string path;
    std::string sha256;  // of the file's bytes: an unchanged file is not indexed again
    uint32_t pages = 1;
};

struct IndexedChunk {
    uint32_t doc = 0;          // index into documents()
    uint64_t begin = 0, end = 0;  // bytes of the document's extracted text
    uint32_t page = 1, line = 1;  // 1-based, where the chunk starts
    std::string text;
};

struct SearchHit {
    size_t chunk;  // index into chunks()
    float score;   // cosine similarity
};

class Hnsw;

class VectorIndex {
public:
    // Above this many chunks search() is approximate (HNSW), below it exact.
    static constexpr size_t kApproximateFrom = 20000;

    VectorIndex(std::string model_id, int dims);
    VectorIndex(VectorIndex&&) noexcept;
    VectorIndex& operator=(VectorIndex&&) noexcept;
    ~VectorIndex();
    // Throws lmx::Error naming the problem for a missing, truncated or corrupt file.
    static VectorIndex load(const std::string& path);
    static VectorIndex parse(const uint8_t* data, size_t size, const std::string& name);
    void save(const std::string& path) const;

    const std::string& model_id() const { return model_id_; }
    int dims() const { return dims_; }
    const std::vector<IndexedDocument>& documents() const { return docs_; }
    const std::vector<IndexedChunk>& chunks() const { return chunks_; }

    // True when path is indexed with this content hash.
    bool is_current(const std::string& path, const std::string& sha256) const;
    // Adds the document, replacing an earlier version of the same path. vectors holds
    // one row of dims() floats per chunk (chunk.doc is set here); rows are normalized.
    void put(const IndexedDocument& doc, std::vector<IndexedChunk> chunks, const std::vector<float>& vectors);

    // The k chunks most similar to query (dims() floats), best first: search_exact
    // below kApproximateFrom chunks, search_approximate from there on.
    std::vector<SearchHit> search(const float* query, size_t k) const;
    // Every vector scored with the CPU's SIMD dot product.
    std::vector<SearchHit> search_exact(const float* query, size_t k) const;
    // Through an HNSW graph of the vectors, built on first use (in memory, not saved).
    std::vector<SearchHit> search_approximate(const float* query, size_t k) const;

private:
    std::string model_id_;
    int dims_;
    std::vector<IndexedDocument> docs_;
    std::vector<IndexedChunk> chunks_;
    std::vector<float> vectors_;  // chunks_.size() x dims_
    mutable std::unique_ptr<Hnsw> hnsw_;  // over vectors_; dropped when they change
};

}  // namespace lmx
