#include "ops/kv_cache.hpp"

#include "base/error.hpp"

namespace lmx::ops {

KvCache::KvCache(int n_layers, int n_kv_heads, int64_t head_dim, int n_seq, int64_t n_ctx)
    : n_layers_(n_layers), n_heads_(n_kv_heads), n_seq_(n_seq), head_dim_(head_dim), n_ctx_(n_ctx) {
    if (n_layers <= 0 || n_kv_heads <= 0 || head_dim <= 0 || n_seq <= 0 || n_ctx <= 0)
        fail("KV cache: invalid size (layers ", n_layers, ", kv heads ", n_kv_heads, ", head dim ", head_dim, ", sequences ", n_seq,
             ", context ", n_ctx, ")");
    const double bytes = 2.0 * 2 * n_layers * double(n_kv_heads) * static_cast<double>(head_dim) * n_seq * static_cast<double>(n_ctx);
    if (bytes > 64.0 * (1ull << 30))
        fail("KV cache of ", bytes / (1 << 20), " MiB is too large: lower the context size (-c) or sequence count");
    data_.resize(static_cast<size_t>(bytes / 2));
}

}  // namespace lmx::ops
