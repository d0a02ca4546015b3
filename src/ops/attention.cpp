#include <cmath>
#include <vector>

#include "base/fp16.hpp"
#include "ops/kv_cache.hpp"
#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// Causal grouped-query attention over the KV cache. Tokens of one batch may belong
// to different sequences at different positions: each attends only to its own
// sequence's cache up to its own position, so a batch gives the same result as
// running each sequence alone.
// With a sliding window W a token at position p sees only positions p-W+1..p.
class Attention final : public NamedOp {
    static constexpr int kMaxGroup = kernels::kMaxAttendGroup;  // query heads per kv head (GQA group size)

public:
    explicit Attention(const AttentionParams& p) : NamedOp("attention"), p_(p) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 5, 5);
        require(p_.n_heads > 0 && p_.n_kv_heads > 0 && p_.n_heads % p_.n_kv_heads == 0,
                "heads ", p_.n_heads, " not a multiple of kv heads ", p_.n_kv_heads);
        require(p_.window >= 0, "sliding window ", p_.window, " is negative");
        require(p_.n_heads / p_.n_kv_heads <= kMaxGroup, "more than ", kMaxGroup, " query heads per kv head");
        const int64_t qd = static_cast<int64_t>(p_.n_heads) * p_.head_dim;
        const int64_t kvd = static_cast<int64_t>(p_.n_kv_heads) * p_.head_dim;
        require(in[0]->dims.size() == 2 && in[0]->dims[1] == qd, "q must be [T, ", qd, "]");
        require(in[1]->dims.size() == 2 && in[1]->dims[1] == kvd, "k must be [T, ", kvd, "]");
        require(in[2]->dims == in[1]->dims, "v must match k");
        require(in[3]->dtype == DType::I32 && in[4]->dtype == DType::I32, "positions and seq_ids must be i32");
        return {{DType::F32, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        KvCache* kv = ctx.kv_cache;
        if (!kv) fail("attention needs a KV cache");
        if (kv->n_kv_heads() != p_.n_kv_heads || kv->head_dim() != p_.head_dim || p_.layer < 0 || p_.layer >= kv->n_layers())
            fail("KV cache of ", kv->n_layers(), " layers of ", kv->n_kv_heads(), " heads of ", kv->head_dim(), " does not fit layer ",
                 p_.layer, " with ", p_.n_kv_heads, " kv heads of ", p_.head_dim);
        const int64_t n_tok = in[0].dims[0];
        const int hd = p_.head_dim;
        const int64_t qd = static_cast<int64_t>(p_.n_heads) * hd, kvd = static_cast<int64_t>(p_.n_kv_heads) * hd;
        const int32_t* pos = in[3].as<int32_t>();
        const int32_t* seq = in[4].as<int32_t>();
        for (int64_t t = 0; t < n_tok; t++) {
            if (seq[t] < 0 || seq[t] >= kv->n_seq()) fail("sequence id ", seq[t], " outside the ", kv->n_seq(), " KV-cache slots");
            if (pos[t] < 0 || pos[t] >= kv->n_ctx())
                fail("position ", pos[t], " is beyond the context size ", kv->n_ctx(), " (raise it with -c)");
        }
        // 1. store this batch's keys and values
        parallel_for(ctx, n_tok, [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; t++)
                for (int h = 0; h < p_.n_kv_heads; h++) {
                    uint16_t* kc = kv->key(p_.layer, seq[t], h, pos[t]);
                    uint16_t* vc = kv->value(p_.layer, seq[t], h, pos[t]);
                    const float* k = in[1].as<float>() + t * kvd + h * hd;
                    const float* v = in[2].as<float>() + t * kvd + h * hd;
                    for (int i = 0; i < hd; i++) kc[i] = fp32_to_fp16(k[i]), vc[i] = fp32_to_fp16(v[i]);
                }
        });
        // 2. every (token, kv head) job attends over its sequence's positions first..pos for
        //    the query heads sharing that kv head, so each cached row is read once per group
        const int group = p_.n_heads / p_.n_kv_heads;
        auto window_start = [&](int64_t n_pos) -> int64_t { return p_.window > 0 && n_pos > p_.window ? n_pos - p_.window : 0; };
        if (ctx.kernels.attend_f16) {
            parallel_for_dynamic(ctx, n_tok * p_.n_kv_heads, [&](int64_t b, int64_t e) {
                for (int64_t job = b; job < e; job++) {
                    const int64_t t = job / p_.n_kv_heads;
                    const int kh = static_cast<int>(job % p_.n_kv_heads);
                    const int64_t n_pos = pos[t] + 1, first = window_start(n_pos);
                    ctx.kernels.attend_f16(group, hd, in[0].as<float>() + t * qd + kh * group * hd, kv->key(p_.layer, seq[t], kh, first),
                                           kv->value(p_.layer, seq[t], kh, first), hd, n_pos - first, p_.scale,
                                           out[0].as<float>() + t * qd + kh * group * hd);
                }
            });
            return;
        }
        // Without it (deterministic tables, WASM): the two-pass form in its fixed order.
        const int64_t n_ctx = kv->n_ctx();
        auto* scratch = static_cast<float*>(ctx.scratch(static_cast<size_t>(ctx.pool.size()) * static_cast<size_t>(group * n_ctx) * sizeof(float)));
        ctx.pool.run([&](int ith, int n_threads) {
            float* scores = scratch + static_cast<size_t>(ith) * static_cast<size_t>(group * n_ctx);
            Range r = split_range(n_tok * p_.n_kv_heads, ith, n_threads);
            for (int64_t job = r.begin; job < r.end; job++) {
                const int64_t t = job / p_.n_kv_heads;
                const int kh = static_cast<int>(job % p_.n_kv_heads);
                const int64_t n_pos = pos[t] + 1, first = window_start(n_pos);
                ctx.kernels.attend_det_f16(group, hd, in[0].as<float>() + t * qd + kh * group * hd, kv->key(p_.layer, seq[t], kh, first),
                                           kv->value(p_.layer, seq[t], kh, first), hd, n_pos - first, p_.scale, scores,
                                           out[0].as<float>() + t * qd + kh * group * hd);
            }
        });
    }

private:
    AttentionParams p_;
};

OpPtr attention(const AttentionParams& p) { return std::make_shared<Attention>(p); }

}  // namespace lmx::ops
