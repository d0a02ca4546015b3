#pragma once
// Lossless compression with a language model: the model, run in deterministic mode,
// predicts each next token; an arithmetic coder spends -log2 p bits on it. Bytes the
// vocabulary cannot express (invalid UTF-8, bytes without a token) are coded as an
// escape symbol followed by the raw byte at 8 bits. Input is cut into independent
// chunks, coded in parallel. Format: docs/compression-format.md.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/compress_container.hpp"
#include "runtime/model.hpp"
#include "runtime/session.hpp"

namespace lmx {

struct CompressOptions {
    // compress only: larger chunks see more context and run fewer in parallel; a chunk of
    // more than max_positions items (tokens and escaped bytes) is cut in two, again if need be
    uint32_t chunk_bytes = 4096;  // at most kMaxChunkBytes
    int64_t max_positions = 0;    // 0: the model's training context; never more than it
    int workers = 0;              // chunks coded at once (0: one per hardware thread, at most one per chunk)
    int threads_per_worker = 0;   // 0: hardware threads / workers
    // Called from the workers, serialized, with the original bytes coded so far.
    std::function<void(uint64_t done, uint64_t total)> progress;
};

class Compressor {
public:
    // Hashes the model file (its SHA-256 goes into every container).
    explicit Compressor(std::shared_ptr<const Model> model);

    std::string compress(std::string_view data, const CompressOptions& o = {}) const;
    // Refuses a container made with another model, tokenizer or numerics, naming what
    // differs; a corrupted container throws (the original's CRC-32 is checked).
    std::string decompress(std::string_view container, const CompressOptions& o = {}) const;

    const std::array<uint8_t, 32>& model_sha256() const { return model_sha_; }
    const std::array<uint8_t, 32>& tokenizer_sha256() const { return tokenizer_sha_; }

    // One coding step's integer frequency table: cum[s]..cum[s+1] is symbol s (tokens
    // 0..n_vocab-1, then the escape), summing to 2^total_log2, every entry >= 1, computed
    // from the deterministic logits with integer and IEEE double arithmetic only.
    static void frequencies(const float* logits, const CodingParams& p, bool after_escape, std::vector<uint32_t>& cum);

private:
    // One coded item: a token, or (token < 0) an escaped byte.
    struct Item {
        int32_t token;
        uint8_t byte;
    };
    std::vector<Item> items_of(std::string_view chunk) const;
    // Positions a chunk may take: the model's training context, or fewer when asked (compress).
    int64_t max_chunk_positions(int64_t asked = 0) const;
    // Runs job(session, next) on the workers, each with its own deterministic Session of
    // n_seq slots of n_ctx positions; a worker takes chunk i = next++ while i < n. An error stops all.
    void run_workers(size_t n, const CompressOptions& o, int64_t n_ctx, int n_seq,
                     const std::function<void(Session&, std::atomic<size_t>&)>& job) const;
    // What the model is fed after an escaped byte: its single-byte token, or the start token.
    int32_t byte_token_or_start(uint8_t b) const { return byte_token_[b] >= 0 ? byte_token_[b] : start_token_; }

    std::shared_ptr<const Model> model_;
    std::array<uint8_t, 32> model_sha_{}, tokenizer_sha_{};
    std::array<int32_t, 256> byte_token_{};  // the single-byte token of each byte, -1 when none
    int32_t start_token_ = 0;                 // fed before each chunk's first symbol
};

}  // namespace lmx
