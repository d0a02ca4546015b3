#pragma once
// The BPE merge loop shared by llama.cpp-style (GGUF) and HF tokenizer.json BPE: adjacent
// symbols are merged by rank, lowest rank first and leftmost first among equals; a
// queued merge still applies when the pair at its position now merges into the same
// result (how both llama.cpp and HF `tokenizers` check for stale queue entries).
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace lmx {

struct BpeSymbol {
    int32_t id;           // -1: a symbol that merges with nothing
    uint32_t begin, end;  // the bytes (or characters) of the word it covers
};

class BpeRanks {
public:
    // keep_first: a pair listed twice keeps its first rank (llama.cpp) or its last (HF).
    void add(int32_t left, int32_t right, int32_t rank, int32_t result, bool keep_first);
    void reserve(size_t n) { map_.reserve(n); }
    // Merges the symbols in place; they stay in order.
    void apply(std::vector<BpeSymbol>& symbols) const;

private:
    struct Merge {
        int32_t rank, result;
    };
    static uint64_t key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }
    const Merge* find(int32_t a, int32_t b) const {
        if (a < 0 || b < 0) return nullptr;
        const auto it = map_.find(key(a, b));
        return it == map_.end() ? nullptr : &it->second;
    }
    std::unordered_map<uint64_t, Merge> map_;
};

}  // namespace lmx
