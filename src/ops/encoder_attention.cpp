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

    // One work item per (sequence, head), as three dense products: the head's queries
    // times its keys transposed (all scores at once), a softmax per row, the
    // probabilities times the values, written into the head's columns of y. The products
    // run on the table's blocked f32 kernel, which reads b's rows contiguously, hence the
    // keys transposed into scratch first.
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t n_tok = in[0].dims[0], hd = p_.head_dim, d = in[0].dims[1];
        const SequenceRanges seqs(in[3], n_tok);
        const kernels::Table& kt = ctx.kernels;
        const float *q = in[0].as<float>(), *k = in[1].as<float>(), *v = in[2].as<float>();
        float* y = out[0].as<float>();
        parallel_for_dynamic(ctx, seqs.n_seq * p_.n_heads, [&](int64_t item, int64_t) {
            const int64_t s = item / p_.n_heads, col = item % p_.n_heads * hd;
            const int64_t lo = seqs.begin(s), len = seqs.end(s) - lo;
            thread_local std::vector<float> scratch;
            scratch.resize(static_cast<size_t>(2 * len * hd + len * len));
            float* qh = scratch.data();
            float* keys_t = qh + len * hd;
            float* probs = keys_t + len * hd;
            for (int64_t j = 0; j < len; j++)
                for (int64_t i = 0; i < hd; i++) {
                    qh[j * hd + i] = q[(lo + j) * d + col + i];
                    keys_t[i * len + j] = k[(lo + j) * d + col + i];
                }
            kt.rows_times_matrix_f32(len, hd, len, qh, keys_t, probs, 0, len);
            for (int64_t j = 0; j < len; j++) {
                float* row = probs + j * len;
                const float mx = *std::max_element(row, row + len);
                for (int64_t i = 0; i < len; i++) row[i] = (row[i] - mx) * p_.scale;
                kt.exp_det(len, row, row);
                float sum = 0;
                for (int64_t i = 0; i < len; i++) sum += row[i];
                const float inv = 1.0f / sum;
                for (int64_t i = 0; i < len; i++) row[i] *= inv;
            }
            kt.rows_times_matrix_f32(len, len, d, probs, v + lo * d, y + lo * d, col, col + hd);
        });
    }

private:
    EncoderAttentionParams p_;
};

OpPtr encoder_attention(const EncoderAttentionParams& p) { return std::make_shared<EncoderAttention>(p); }

}  // namespace lmx::ops
