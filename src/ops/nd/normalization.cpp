#include "ops/nd/normalization.hpp"

#include <algorithm>
#include <cmath>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

// Normalizes one row of n values (already as float) into y: returns {mean, inv_std}.
// Sums in double so the statistics do not depend on the row length's rounding.
std::pair<float, float> normalize_row(const float* x, int64_t n, bool rms, float eps, float* y) {
    double sum = 0;
    if (!rms)
        for (int64_t i = 0; i < n; i++) sum += x[i];
    const double mean = rms ? 0.0 : sum / static_cast<double>(n);
    double sq = 0;
    for (int64_t i = 0; i < n; i++) sq += (x[i] - mean) * (x[i] - mean);
    const float inv = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; i++) y[i] = static_cast<float>(x[i] - mean) * inv;
    return {static_cast<float>(mean), inv};
}

class LayerNormNd final : public NamedOp {
public:
    explicit LayerNormNd(const NormParams& p) : NamedOp(p.rms ? "RMSNormalization" : "LayerNormalization"), p_(p) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, p_.rms ? 2 : 3);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t), "x must be a float type, got ", dtype_name(t));
        const Dims& x = in[0]->dims;
        const int64_t axis = normalize_axis(p_.axis, static_cast<int64_t>(x.size()));
        const Dims norm(x.begin() + axis, x.end());
        for (size_t i = 1; i < in.size(); i++) {
            if (!present(in, i)) continue;
            require(is_float_dtype(in[i]->dtype), "scale and bias must be float types");
            require(in[i]->dims.size() <= norm.size() && broadcast(in[i]->dims, norm) == norm, i == 1 ? "scale " : "bias ",
                    graph::dims_text(in[i]->dims), " does not broadcast to the normalized dims ", graph::dims_text(norm));
        }
        Dims stats = x;
        for (size_t d = static_cast<size_t>(axis); d < stats.size(); d++) stats[d] = 1;
        std::vector<OutputSpec> out{{t, x}};
        for (int i = 1; i < p_.n_outputs; i++) out.push_back({DType::F32, stats});
        return out;
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& x = in[0].dims;
        const int64_t axis = normalize_axis(p_.axis, static_cast<int64_t>(x.size()));
        const Dims norm(x.begin() + axis, x.end());
        const int64_t n = elements(norm), rows = n ? in[0].elements() / n : 0;
        const std::vector<float> scale = as_floats(in[1], norm);
        const std::vector<float> bias = present(in, 2) ? as_floats(in[2], norm) : std::vector<float>();
        parallel_for(ctx, rows, [&](int64_t lo, int64_t hi) {
            std::vector<float> xf(static_cast<size_t>(n)), yf(static_cast<size_t>(n));
            for (int64_t r = lo; r < hi; r++) {
                visit_dtype(in[0].dtype, "x", [&](auto t) {
                    using T = decltype(t);
                    const T* src = in[0].as<T>() + r * n;
                    for (int64_t i = 0; i < n; i++) xf[static_cast<size_t>(i)] = static_cast<float>(static_cast<Compute<T>>(src[i]));
                    auto [mean, inv] = normalize_row(xf.data(), n, p_.rms, p_.epsilon, yf.data());
                    T* dst = out[0].as<T>() + r * n;
                    for (int64_t i = 0; i < n; i++) {
                        float v = yf[static_cast<size_t>(i)] * scale[static_cast<size_t>(i)];
                        if (!bias.empty()) v += bias[static_cast<size_t>(i)];
                        dst[i] = static_cast<T>(static_cast<Compute<T>>(v));
                    }
                    // LayerNormalization's optional outputs are mean, inv_std; RMS has only inv_std.
                    if (p_.rms) {
                        if (out.size() > 1) out[1].as<float>()[r] = inv;
                    } else {
                        if (out.size() > 1) out[1].as<float>()[r] = mean;
                        if (out.size() > 2) out[2].as<float>()[r] = inv;
                    }
                });
            }
        });
    }

private:
    // A scale or bias broadcast to the normalized dims, as floats.
    static std::vector<float> as_floats(const Tensor& t, const Dims& norm) {
        std::vector<float> v(static_cast<size_t>(elements(norm)));
        visit_dtype(t.dtype, "scale", [&](auto tag) {
            using T = decltype(tag);
            const T* src = t.as<T>();
            for_each_broadcast<1>(norm, {&t.dims}, [&](int64_t i, const std::array<int64_t, 1>& o) {
                v[static_cast<size_t>(i)] = static_cast<float>(static_cast<Compute<T>>(src[o[0]]));
            });
        });
        return v;
    }

    NormParams p_;
};

class SkipLayerNorm final : public NamedOp {
public:
    explicit SkipLayerNorm(const SkipNormParams& p)
        : NamedOp(p.rms ? "SkipSimplifiedLayerNormalization" : "SkipLayerNormalization"), p_(p) {}

    // Inputs: x, skip, gamma, then beta (layer norm only) and bias, each optional.
    size_t bias_index() const { return p_.rms ? 3 : 4; }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, bias_index() + 1);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t), "input must be a float type, got ", dtype_name(t));
        const Dims& x = in[0]->dims;
        require(!x.empty(), "input must have at least one dim");
        const int64_t h = x.back();
        // skip matches the input's trailing dims (leading 1s aside): it repeats over the leading rows
        Dims skip = in[1]->dims;
        while (!skip.empty() && skip.front() == 1 && skip.size() > 1) skip.erase(skip.begin());
        require(in[1]->dtype == t && skip.size() <= x.size() && std::equal(skip.begin(), skip.end(), x.end() - static_cast<long>(skip.size())),
                "skip ", graph::dims_text(in[1]->dims), " does not match input ", graph::dims_text(x));
        for (size_t i = 2; i < in.size(); i++)
            if (present(in, i)) require(in[i]->dims == Dims{h} && is_float_dtype(in[i]->dtype), "gamma, beta and bias must be [", h, "]");
        Dims stats = x;
        stats.back() = 1;
        // output, mean, inv_std_var (f32 statistics), input_skip_bias_sum
        const OutputSpec all[] = {{t, x}, {DType::F32, stats}, {DType::F32, stats}, {t, x}};
        require(p_.n_outputs >= 1 && p_.n_outputs <= 4, "has 1 to 4 outputs");
        return std::vector<OutputSpec>(all, all + p_.n_outputs);
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t h = in[0].dims.back(), rows = h ? in[0].elements() / h : 0;
        const Dims hd{h};
        auto vec = [&](size_t i) {
            std::vector<float> v;
            if (!present(in, i)) return v;
            v.resize(static_cast<size_t>(h));
            visit_dtype(in[i].dtype, "gamma", [&](auto tag) {
                using T = decltype(tag);
                for (int64_t j = 0; j < h; j++) v[static_cast<size_t>(j)] = static_cast<float>(static_cast<Compute<T>>(in[i].as<T>()[j]));
            });
            return v;
        };
        const std::vector<float> gamma = vec(2), beta = p_.rms ? std::vector<float>() : vec(3), bias = vec(bias_index());
        const int64_t skip_rows = in[1].elements() / std::max<int64_t>(h, 1);
        parallel_for(ctx, rows, [&](int64_t lo, int64_t hi) {
            std::vector<float> sum(static_cast<size_t>(h)), yf(static_cast<size_t>(h));
            visit_dtype(in[0].dtype, "input", [&](auto tag) {
                using T = decltype(tag);
                using C = Compute<T>;
                for (int64_t r = lo; r < hi; r++) {
                    const T* x = in[0].as<T>() + r * h;
                    const T* s = in[1].as<T>() + (r % skip_rows) * h;  // skip is [.., h] broadcast over leading rows
                    for (int64_t j = 0; j < h; j++) {
                        float v = static_cast<float>(static_cast<C>(x[j])) + static_cast<float>(static_cast<C>(s[j]));
                        if (!bias.empty()) v += bias[static_cast<size_t>(j)];
                        sum[static_cast<size_t>(j)] = v;
                    }
                    auto [mean, inv] = normalize_row(sum.data(), h, p_.rms, p_.epsilon, yf.data());
                    T* y = out[0].as<T>() + r * h;
                    for (int64_t j = 0; j < h; j++) {
                        float v = yf[static_cast<size_t>(j)] * gamma[static_cast<size_t>(j)];
                        if (!beta.empty()) v += beta[static_cast<size_t>(j)];
                        y[j] = static_cast<T>(static_cast<C>(v));
                    }
                    if (out.size() > 1) out[1].as<float>()[r] = mean;
                    if (out.size() > 2) out[2].as<float>()[r] = inv;
                    if (out.size() > 3)
                        for (int64_t j = 0; j < h; j++) out[3].as<T>()[r * h + j] = static_cast<T>(static_cast<C>(sum[static_cast<size_t>(j)]));
                }
            });
        });
    }

private:
    SkipNormParams p_;
};

}  // namespace

OpPtr layer_norm_nd(const NormParams& p) { return std::make_shared<LayerNormNd>(p); }
OpPtr skip_layer_norm(const SkipNormParams& p) { return std::make_shared<SkipLayerNorm>(p); }

}  // namespace lmx::ops::nd
