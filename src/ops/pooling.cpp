#include <algorithm>
#include <cmath>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"
#include "ops/sequence_ranges.hpp"

namespace lmx::ops {

std::string_view pooling_name(Pooling p) {
    switch (p) {
        case Pooling::mean: return "mean";
        case Pooling::cls: return "cls";
        case Pooling::last: return "last";
    }
    return "?";
}

// One vector per sequence from its token states: their mean (only the sequence's own
// tokens count, as sentence-transformers' attention-mask-aware mean), the first (CLS)
// token's, or the last token's.
class Pool final : public NamedOp {
public:
    explicit Pool(Pooling mode) : NamedOp("pool"), mode_(mode) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[0]->dims.size() == 2, "x must be f32 [T, D]");
        require(in[1]->dtype == DType::I32 && in[1]->dims.size() == 1, "seq_starts must be i32 [S]");
        return {{DType::F32, {in[1]->dims[0], in[0]->dims[1]}}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].dims[1];
        const SequenceRanges seqs(in[1], in[0].dims[0]);
        const float* x = in[0].as<float>();
        parallel_for(ctx, seqs.n_seq, [&](int64_t b, int64_t e) {
            for (int64_t s = b; s < e; s++) {
                float* y = out[0].as<float>() + s * d;
                const int64_t lo = seqs.begin(s), hi = seqs.end(s);
                if (mode_ != Pooling::mean) {
                    const float* row = x + (mode_ == Pooling::cls ? lo : hi - 1) * d;
                    for (int64_t i = 0; i < d; i++) y[i] = row[i];
                    continue;
                }
                for (int64_t i = 0; i < d; i++) y[i] = 0;
                for (int64_t t = lo; t < hi; t++)
                    for (int64_t i = 0; i < d; i++) y[i] += x[t * d + i];
                const float inv = 1.0f / static_cast<float>(hi - lo);
                for (int64_t i = 0; i < d; i++) y[i] *= inv;
            }
        });
    }

private:
    Pooling mode_;
};

OpPtr pool(Pooling mode) { return std::make_shared<Pool>(mode); }

// Each row divided by its Euclidean norm, floored at 1e-12 as torch's F.normalize does,
// so a zero row stays zero instead of becoming NaN.
class L2Normalize final : public NamedOp {
public:
    L2Normalize() : NamedOp("l2_normalize") {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(in[0]->dtype == DType::F32 && !in[0]->dims.empty(), "x must be f32");
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t d = in[0].cols();
        for (int64_t r = 0; r < in[0].rows(); r++) {
            const float* x = in[0].as<float>() + r * d;
            float* y = out[0].as<float>() + r * d;
            double sq = 0;
            for (int64_t i = 0; i < d; i++) sq += static_cast<double>(x[i]) * x[i];
            const auto inv = static_cast<float>(1.0 / std::max(std::sqrt(sq), 1e-12));
            for (int64_t i = 0; i < d; i++) y[i] = x[i] * inv;
        }
    }
};

OpPtr l2_normalize() { return std::make_shared<L2Normalize>(); }

}  // namespace lmx::ops
