#include <cmath>

#include "base/det_math.hpp"
#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// Rotary position embedding. Angles follow ggml's recurrence (theta *= base^(-2/n_rot)
// in float) so the rotation matches llama.cpp's to the last bit of the angle.
class Rope final : public NamedOp {
public:
    explicit Rope(const RopeParams& p) : NamedOp("rope"), p_(p) {}
    int in_place_input() const override { return 0; }  // each pair is read before it is written
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(p_.n_rot > 0 && p_.n_rot % 2 == 0 && p_.n_rot <= p_.head_dim, "n_rot ", p_.n_rot, " invalid for head dim ", p_.head_dim);
        require(in[0]->dtype == DType::F32 && in[0]->dims.size() == 2 &&
                    in[0]->dims[1] == static_cast<int64_t>(p_.n_heads) * p_.head_dim,
                "x must be f32 [T, ", p_.n_heads, "*", p_.head_dim, "], got ", graph::dims_text(in[0]->dims));
        require(in[1]->dtype == DType::I32 && in[1]->dims == Dims{in[0]->dims[0]}, "positions must be i32 [T]");
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t n_tok = in[0].dims[0], width = in[0].dims[1];
        const int32_t* pos = in[1].as<int32_t>();
        const bool det = ctx.deterministic;
        const float exponent = -2.0f / static_cast<float>(p_.n_rot);
        const float theta_scale = det ? det_pow(p_.freq_base, exponent) : std::pow(p_.freq_base, exponent);
        const int half = p_.n_rot / 2;
        parallel_for(ctx, n_tok, [&](int64_t b, int64_t e) {
            std::vector<float> cos_t(static_cast<size_t>(half)), sin_t(static_cast<size_t>(half));
            for (int64_t t = b; t < e; t++) {
                float theta = static_cast<float>(pos[t]);
                for (int i = 0; i < half; i++) {
                    if (det) {
                        det_sincos(theta, &sin_t[static_cast<size_t>(i)], &cos_t[static_cast<size_t>(i)]);
                    } else {
                        cos_t[static_cast<size_t>(i)] = std::cos(theta);
                        sin_t[static_cast<size_t>(i)] = std::sin(theta);
                    }
                    theta *= theta_scale;
                }
                const float* x = in[0].as<float>() + t * width;
                float* y = out[0].as<float>() + t * width;
                for (int h = 0; h < p_.n_heads; h++) {
                    const float* xh = x + h * p_.head_dim;
                    float* yh = y + h * p_.head_dim;
                    for (int i = 0; i < half; i++) {
                        // adjacent pairs (x0,x1),(x2,x3)…; neox pairs (xi, xi+n_rot/2)
                        const int a = p_.layout == RopeLayout::adjacent_pairs ? 2 * i : i;
                        const int c = p_.layout == RopeLayout::adjacent_pairs ? 2 * i + 1 : i + half;
                        const float x0 = xh[a], x1 = xh[c];
                        const float cs = cos_t[static_cast<size_t>(i)], sn = sin_t[static_cast<size_t>(i)];
                        yh[a] = x0 * cs - x1 * sn;
                        yh[c] = x0 * sn + x1 * cs;
                    }
                    for (int i = p_.n_rot; i < p_.head_dim; i++) yh[i] = xh[i];
                }
            }
        });
    }

private:
    RopeParams p_;
};

OpPtr rope(const RopeParams& p) { return std::make_shared<Rope>(p); }

}  // namespace lmx::ops
