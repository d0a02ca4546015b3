#pragma once
// Keys and values of every layer for a fixed number of sequence slots, stored as
// fp16 (halves the memory traffic of attention, as llama.cpp does by default).
// The runtime owns it and assigns slots; attention ops read and write it.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmx::ops {

class KvCache {
public:
    KvCache(int n_layers, int n_kv_heads, int64_t head_dim, int n_seq, int64_t n_ctx);

    int n_layers() const { return n_layers_; }
    int n_kv_heads() const { return n_heads_; }
    int64_t head_dim() const { return head_dim_; }
    int n_seq() const { return n_seq_; }
    int64_t n_ctx() const { return n_ctx_; }
    size_t bytes() const { return data_.size() * sizeof(uint16_t); }

    // head_dim values; the positions of one (layer, sequence, head) follow each other, so
    // attention reads a head's keys and values as two contiguous streams.
    uint16_t* key(int layer, int seq, int head, int64_t pos) { return data_.data() + index(layer, seq, head, pos, 0); }
    uint16_t* value(int layer, int seq, int head, int64_t pos) { return data_.data() + index(layer, seq, head, pos, 1); }

private:
    size_t index(int layer, int seq, int head, int64_t pos, int kv) const {
        const size_t stream = ((static_cast<size_t>(layer) * 2 + static_cast<size_t>(kv)) * static_cast<size_t>(n_seq_) +
                               static_cast<size_t>(seq)) * static_cast<size_t>(n_heads_) + static_cast<size_t>(head);
        return (stream * static_cast<size_t>(n_ctx_) + static_cast<size_t>(pos)) * static_cast<size_t>(head_dim_);
    }
    int n_layers_, n_heads_, n_seq_;
    int64_t head_dim_, n_ctx_;
    std::vector<uint16_t> data_;
};

}  // namespace lmx::ops
