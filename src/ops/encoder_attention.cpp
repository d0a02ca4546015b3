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

    // One work item per (sequence, head), as two dense products on the kernel table's
    // panel GEMM: the head's queries times its keys (packed as panels of 16 keys, so all
    // scores of a query come at once), a softmax per row, then the probabilities times
    // the values (packed likewise), written into the head's columns of y.
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t n_tok = in[0].dims[0], hd = p_.head_dim, d = in[0].dims[1];
        const SequenceRanges seqs(in[3], n_tok);
        const kernels::Table& kt = ctx.kernels;
        const float *q = in[0].as<float>(), *k = in[1].as<float>(), *v = in[2].as<float>();
        float* y = out[0].as<float>();
        parallel_for_dynamic(ctx, seqs.n_seq * p_.n_heads, [&](int64_t first, int64_t end) {
            for (int64_t item = first; item < end; item++) {
                const int64_t s = item / p_.n_heads, col = item % p_.n_heads * hd;
                const int64_t lo = seqs.begin(s), len = seqs.end(s) - lo;
                const int64_t key_floats = kernels::f32_panels(len) * hd * kernels::kF32Panel;
                const int64_t value_floats = kernels::f32_panels(hd) * len * kernels::kF32Panel;
                thread_local std::vector<float> scratch;
                scratch.resize(static_cast<size_t>(key_floats + value_floats + len * len));
                float* keys = scratch.data();
                float* values = keys + key_floats;
                float* probs = values + value_floats;
                kernels::pack_f32_panels(k + lo * d + col, d, len, hd, true, keys);
                kernels::pack_f32_panels(v + lo * d + col, d, hd, len, false, values);
                kt.gemm_f32_panels(len, hd, 0, hd, q + lo * d + col, d, keys, len, probs, len, nullptr, false);
                for (int64_t j = 0; j < len; j++) kt.softmax_row(len, probs + j * len, p_.scale);
                for (int64_t k0 = 0; k0 < len; k0 += 128)
                    kt.gemm_f32_panels(len, len, k0, std::min(len, k0 + 128), probs, len, values, hd, y + lo * d + col, d, nullptr, false);
            }
        });
    }

private:
    EncoderAttentionParams p_;
};

OpPtr encoder_attention(const EncoderAttentionParams& p) { return std::make_shared<EncoderAttention>(p); }

}  // namespace lmx::ops
