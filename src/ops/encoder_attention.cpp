#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"
#include "ops/sequence_ranges.hpp"

namespace lmx::ops {

// Bidirectional multi-head attention for encoders: every token attends to every token
// of its own sequence and to nothing else, so sequences of different lengths share a
// batch with no padding and no mask to compute. No KV cache: an encoder sees its whole
// input at once.
class EncoderAttention final : public NamedOp {
public:
    explicit EncoderAttention(const EncoderAttentionParams& p) : NamedOp("encoder_attention"), p_(p) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 4, 4);
        require(p_.n_heads > 0 && p_.head_dim > 0, "needs heads and a head size");
        const int64_t d = static_cast<int64_t>(p_.n_heads) * p_.head_dim;
        for (int i = 0; i < 3; i++)
            require(in[i]->dtype == DType::F32 && in[i]->dims.size() == 2 && in[i]->dims[1] == d && in[i]->dims == in[0]->dims,
                    "q, k and v must be f32 [T, ", d, "]");
        require(in[3]->dtype == DType::I32 && in[3]->dims.size() == 1, "seq_starts must be i32 [S]");
        return {{DType::F32, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t n_tok = in[0].dims[0], hd = p_.head_dim, d = in[0].dims[1];
        const SequenceRanges seqs(in[3], n_tok);
        const auto dot = ctx.kernels.weight[static_cast<int>(DType::F32)].vec_dot;
        const float *q = in[0].as<float>(), *k = in[1].as<float>(), *v = in[2].as<float>();
        float* y = out[0].as<float>();
        // One work item per (query token, head): the longest sequence bounds the scores row.
        int64_t max_len = 0;
        for (int64_t s = 0; s < seqs.n_seq; s++) max_len = std::max(max_len, seqs.end(s) - seqs.begin(s));
        std::vector<int32_t> seq_of(static_cast<size_t>(n_tok));
        for (int64_t s = 0; s < seqs.n_seq; s++)
            for (int64_t t = seqs.begin(s); t < seqs.end(s); t++) seq_of[static_cast<size_t>(t)] = static_cast<int32_t>(s);
        parallel_for(ctx, n_tok * p_.n_heads, [&](int64_t b, int64_t e) {
            std::vector<float> scores(static_cast<size_t>(max_len));
            for (int64_t item = b; item < e; item++) {
                const int64_t t = item / p_.n_heads, h = item % p_.n_heads;
                const int32_t s = seq_of[static_cast<size_t>(t)];
                const int64_t lo = seqs.begin(s), len = seqs.end(s) - lo;
                const float* qt = q + t * d + h * hd;
                float mx = -INFINITY;
                for (int64_t j = 0; j < len; j++) {
                    scores[static_cast<size_t>(j)] = dot(hd, k + (lo + j) * d + h * hd, qt) * p_.scale;
                    mx = std::max(mx, scores[static_cast<size_t>(j)]);
                }
                float sum = 0;
                for (int64_t j = 0; j < len; j++) sum += scores[static_cast<size_t>(j)] = std::exp(scores[static_cast<size_t>(j)] - mx);
                float* yt = y + t * d + h * hd;
                std::fill(yt, yt + hd, 0.0f);
                for (int64_t j = 0; j < len; j++) {
                    const float p = scores[static_cast<size_t>(j)] / sum;
                    const float* vj = v + (lo + j) * d + h * hd;
                    for (int64_t i = 0; i < hd; i++) yt[i] += p * vj[i];
                }
            }
        }, 8);
    }

private:
    EncoderAttentionParams p_;
};

OpPtr encoder_attention(const EncoderAttentionParams& p) { return std::make_shared<EncoderAttention>(p); }

}  // namespace lmx::ops
