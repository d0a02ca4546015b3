#include "runtime/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "base/error.hpp"
#include "base/mapped_file.hpp"
#include "kernels/kernels.hpp"
#include "runtime/hnsw.hpp"

namespace lmx {

using nlohmann::json;

namespace {

constexpr char kMagic[8] = {'L', 'M', 'X', 'I', 'N', 'D', 'E', 'X'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 24;  // magic, u32 version, u32 dims, u64 json bytes

void put_u32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; i++) s += static_cast<char>(v >> (8 * i));
}
void put_u64(std::string& s, uint64_t v) {
    for (int i = 0; i < 8; i++) s += static_cast<char>(v >> (8 * i));
}
uint64_t get_le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

void normalize(float* v, int d) {
    double sq = 0;
    for (int i = 0; i < d; i++) sq += static_cast<double>(v[i]) * v[i];
    const auto inv = static_cast<float>(1.0 / std::max(std::sqrt(sq), 1e-12));
    for (int i = 0; i < d; i++) v[i] *= inv;
}

void write_all(int fd, const void* data, size_t n, const std::string& path) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) fail(path, ": write failed (disk full?); the previous index is untouched");
        p += w;
        n -= static_cast<size_t>(w);
    }
}

}  // namespace

VectorIndex::VectorIndex(std::string model_id, int dims) : model_id_(std::move(model_id)), dims_(dims) {
    if (dims <= 0) fail("an index needs a positive vector size, got ", dims);
}
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;
VectorIndex::~VectorIndex() = default;

bool VectorIndex::is_current(const std::string& path, const std::string& sha256) const {
    return std::any_of(docs_.begin(), docs_.end(), [&](const IndexedDocument& d) { return d.path == path && d.sha256 == sha256; });
}

void VectorIndex::put(const IndexedDocument& doc, std::vector<IndexedChunk> chunks, const std::vector<float>& vectors) {
    const auto d = static_cast<size_t>(dims_);
    hnsw_.reset();
    if (vectors.size() != chunks.size() * d) fail("put: ", chunks.size(), " chunks need ", chunks.size() * d, " floats, got ", vectors.size());
    // Drop an earlier version of the document, renumbering the documents after it.
    const auto old = std::find_if(docs_.begin(), docs_.end(), [&](const IndexedDocument& x) { return x.path == doc.path; });
    if (old != docs_.end()) {
        const auto gone = static_cast<uint32_t>(old - docs_.begin());
        docs_.erase(old);
        std::vector<IndexedChunk> kept;
        std::vector<float> kept_vectors;
        for (size_t i = 0; i < chunks_.size(); i++) {
            if (chunks_[i].doc == gone) continue;
            kept.push_back(std::move(chunks_[i]));
            if (kept.back().doc > gone) kept.back().doc--;
            kept_vectors.insert(kept_vectors.end(), vectors_.begin() + static_cast<std::ptrdiff_t>(i * d),
                                vectors_.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
        }
        chunks_ = std::move(kept);
        vectors_ = std::move(kept_vectors);
    }
    const auto id = static_cast<uint32_t>(docs_.size());
    docs_.push_back(doc);
    const size_t first = vectors_.size();
    vectors_.resize(first + vectors.size());
    std::copy(vectors.begin(), vectors.end(), vectors_.begin() + static_cast<std::ptrdiff_t>(first));
    for (size_t i = 0; i < chunks.size(); i++) {
        normalize(vectors_.data() + first + i * d, dims_);
        chunks[i].doc = id;
        chunks_.push_back(std::move(chunks[i]));
    }
}

std::vector<SearchHit> VectorIndex::search(const float* query, size_t k) const {
    return chunks_.size() >= kApproximateFrom ? search_approximate(query, k) : search_exact(query, k);
}

std::vector<SearchHit> VectorIndex::search_approximate(const float* query, size_t k) const {
    std::vector<float> q(query, query + dims_);
    normalize(q.data(), dims_);
    if (!hnsw_) hnsw_ = std::make_unique<Hnsw>(vectors_.data(), chunks_.size(), dims_);
    std::vector<SearchHit> hits;
    for (const auto& [row, score] : hnsw_->search(q.data(), k)) hits.push_back({row, score});
    return hits;
}

std::vector<SearchHit> VectorIndex::search_exact(const float* query, size_t k) const {
    std::vector<float> q(query, query + dims_);
    normalize(q.data(), dims_);
    const auto dot = kernels::best_table().weight[static_cast<int>(DType::F32)].vec_dot;
    std::vector<SearchHit> hits(chunks_.size());
    for (size_t i = 0; i < chunks_.size(); i++)
        hits[i] = {i, dot(dims_, vectors_.data() + i * static_cast<size_t>(dims_), q.data())};
    k = std::min(k, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(),
                      [](const SearchHit& a, const SearchHit& b) { return a.score > b.score || (a.score == b.score && a.chunk < b.chunk); });
    hits.resize(k);
    return hits;
}

void VectorIndex::save(const std::string& path) const {
    json docs = json::array(), chunks = json::array();
    for (const IndexedDocument& d : docs_) docs.push_back({{"path", d.path}, {"sha256", d.sha256}, {"pages", d.pages}});
    for (const IndexedChunk& c : chunks_)
        chunks.push_back({{"doc", c.doc}, {"begin", c.begin}, {"end", c.end}, {"page", c.page}, {"line", c.line}, {"text", c.text}});
    const std::string meta =
        json{{"model_id", model_id_}, {"documents", docs}, {"chunks", chunks}}.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string head(kMagic, sizeof kMagic);
    put_u32(head, kVersion);
    put_u32(head, static_cast<uint32_t>(dims_));
    put_u64(head, meta.size());
    head += meta;
    head.append((4 - head.size() % 4) % 4, '\0');  // vectors start 4-byte aligned

    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail(tmp, ": cannot be created (does the folder exist and is it writable?)");
    try {
        write_all(fd, head.data(), head.size(), tmp);
        write_all(fd, vectors_.data(), vectors_.size() * sizeof(float), tmp);
        if (::fsync(fd) != 0) fail(tmp, ": fsync failed; the previous index is untouched");
    } catch (...) {
        ::close(fd);
        std::remove(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot replace ", path, " with ", tmp);
}

VectorIndex VectorIndex::load(const std::string& path) {
    MappedFile f(path);
    return parse(f.data(), f.size(), path);
}

VectorIndex VectorIndex::parse(const uint8_t* data, size_t size, const std::string& name) {
    if (size < kHeaderBytes || std::memcmp(data, kMagic, sizeof kMagic) != 0) fail(name, ": not an lmx index file");
    const auto version = static_cast<uint32_t>(get_le(data + 8, 4));
    if (version != kVersion) fail(name, ": index format version ", version, "; this lmx reads version ", kVersion, " (re-create the index)");
    const auto dims = static_cast<uint32_t>(get_le(data + 12, 4));
    const uint64_t meta_len = get_le(data + 16, 8);
    if (dims == 0 || dims > (1u << 16) || meta_len > size - kHeaderBytes) fail(name, ": corrupt header (truncated file?)");
    const auto* meta_p = reinterpret_cast<const char*>(data + kHeaderBytes);
    const json meta = json::parse(meta_p, meta_p + meta_len, nullptr, /*allow_exceptions=*/false);
    auto bad = [&](const char* what) { fail(name, ": corrupt index (", what, "); re-create it"); };
    if (!meta.is_object() || !meta.contains("model_id") || !meta["model_id"].is_string() || !meta.contains("documents") ||
        !meta["documents"].is_array() || !meta.contains("chunks") || !meta["chunks"].is_array())
        bad("metadata");
    VectorIndex ix(meta["model_id"].get<std::string>(), static_cast<int>(dims));
    auto str = [&](const json& o, const char* k) {
        if (!o.is_object() || !o.contains(k) || !o[k].is_string()) bad(k);
        return o[k].get<std::string>();
    };
    auto num = [&](const json& o, const char* k) {
        if (!o.is_object() || !o.contains(k) || !o[k].is_number_unsigned()) bad(k);
        return o[k].get<uint64_t>();
    };
    for (const json& d : meta["documents"])
        ix.docs_.push_back({str(d, "path"), str(d, "sha256"), static_cast<uint32_t>(std::min<uint64_t>(num(d, "pages"), UINT32_MAX))});
    for (const json& c : meta["chunks"]) {
        IndexedChunk ch;
        const uint64_t doc = num(c, "doc");
        if (doc >= ix.docs_.size()) bad("chunk of a missing document");
        ch.doc = static_cast<uint32_t>(doc);
        ch.begin = num(c, "begin");
        ch.end = num(c, "end");
        ch.page = static_cast<uint32_t>(std::min<uint64_t>(num(c, "page"), UINT32_MAX));
        ch.line = static_cast<uint32_t>(std::min<uint64_t>(num(c, "line"), UINT32_MAX));
        ch.text = str(c, "text");
        ix.chunks_.push_back(std::move(ch));
    }
    const size_t vec_at = (kHeaderBytes + meta_len + 3) / 4 * 4;
    const size_t n = ix.chunks_.size() * dims;
    if (vec_at > size || (size - vec_at) / sizeof(float) != n || (size - vec_at) % sizeof(float) != 0)
        fail(name, ": holds ", vec_at > size ? 0 : (size - vec_at), " bytes of vectors, ", ix.chunks_.size(), " chunks of ", dims,
             " floats need ", n * sizeof(float), " (truncated file?); re-create the index");
    ix.vectors_.resize(n);
    if (n) std::memcpy(ix.vectors_.data(), data + vec_at, n * sizeof(float));
    return ix;
}

}  // namespace lmx
