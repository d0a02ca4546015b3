#include "ops/nd/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/det_math.hpp"
#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

const char* kind_name(SoftmaxKind k) {
    static constexpr const char* names[] = {"Softmax", "LogSoftmax", "Hardmax"};
    return names[static_cast<int>(k)];
}

// The input seen as [outer, len, inner], normalized along len.
struct Split {
    int64_t outer = 1, len = 1, inner = 1;
};

class Softmax final : public NamedOp {
public:
    Softmax(SoftmaxKind k, int64_t axis, bool coerce_2d) : NamedOp(kind_name(k)), k_(k), axis_(axis), coerce_2d_(coerce_2d) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1, 1);
        require(is_float_dtype(in[0]->dtype), "input must be a float type, got ", dtype_name(in[0]->dtype));
        split(in[0]->dims);
        return {{in[0]->dtype, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Split s = split(in[0].dims);
        if (s.outer * s.len * s.inner == 0) return;
        if (in[0].dtype == DType::F32 && s.inner == 1 && k_ != SoftmaxKind::hardmax) {
            run_rows(ctx, s, in[0].as<float>(), out[0].as<float>());
            return;
        }
        visit_dtype(in[0].dtype, "input", [&](auto t) {
            using T = decltype(t);
            if constexpr (is_floating<T>) run_columns(ctx, s, in[0].as<T>(), out[0].as<T>());
        });
    }

private:
    Split split(const Dims& d) const {
        const int64_t rank = static_cast<int64_t>(d.size());
        if (!coerce_2d_) require(rank > 0, "input must have at least one dim");
        const size_t a = static_cast<size_t>(normalize_axis(axis_, rank));
        Split s;
        for (size_t i = 0; i < d.size(); i++) {
            if (i < a) s.outer *= d[i];
            else if (i == a || coerce_2d_) s.len *= d[i];
            else s.inner *= d[i];
        }
        return s;
    }

    // f32 along the contiguous last axis, the hot case: one row per task.
    void run_rows(graph::ExecContext& ctx, const Split& s, const float* x, float* y) const {
        const int64_t len = s.len;
        parallel_for(ctx, s.outer, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; r++) {
                const float* xr = x + r * len;
                float* yr = y + r * len;
                if (k_ == SoftmaxKind::softmax && !ctx.deterministic) {  // the SIMD row kernel
                    if (yr != xr) std::memcpy(yr, xr, static_cast<size_t>(len) * sizeof(float));
                    ctx.kernels.softmax_row(len, yr, 1.0f);
                    continue;
                }
                float m = -std::numeric_limits<float>::infinity();
                for (int64_t j = 0; j < len; j++) m = xr[j] > m ? xr[j] : m;
                for (int64_t j = 0; j < len; j++) yr[j] = xr[j] - m;
                if (ctx.deterministic) ctx.kernels.exp_det(len, yr, yr);
                else for (int64_t j = 0; j < len; j++) yr[j] = std::exp(yr[j]);
                double sum = 0;
                for (int64_t j = 0; j < len; j++) sum += yr[j];
                if (k_ == SoftmaxKind::softmax) {
                    const float inv = static_cast<float>(1.0 / sum);
                    for (int64_t j = 0; j < len; j++) yr[j] *= inv;
                } else {
                    const float log_sum = static_cast<float>(std::log(sum));
                    for (int64_t j = 0; j < len; j++) yr[j] = (xr[j] - m) - log_sum;
                }
            }
        }, std::max<int64_t>(1, 16384 / len));
    }

    // Any float type along any axis, computed in double: one strided column per task.
    template <class T>
    void run_columns(graph::ExecContext& ctx, const Split& s, const T* x, T* y) const {
        using C = Compute<T>;
        const int64_t len = s.len, inner = s.inner;
        const bool det = ctx.deterministic && !std::is_same_v<T, double>;  // det_exp is a float function
        auto exp_of = [det](double v) { return det ? static_cast<double>(det_exp(static_cast<float>(v))) : std::exp(v); };
        auto store = [](double v) { return static_cast<T>(static_cast<C>(v)); };
        parallel_for(ctx, s.outer * inner, [&](int64_t lo, int64_t hi) {
            for (int64_t c = lo; c < hi; c++) {
                const int64_t base = (c / inner) * len * inner + c % inner;
                auto at = [&](int64_t j) { return static_cast<double>(static_cast<C>(x[base + j * inner])); };
                if (k_ == SoftmaxKind::hardmax) {
                    int64_t best = 0;
                    for (int64_t j = 1; j < len && !std::isnan(at(best)); j++)
                        if (std::isnan(at(j)) || at(j) > at(best)) best = j;
                    for (int64_t j = 0; j < len; j++) y[base + j * inner] = store(j == best ? 1.0 : 0.0);
                    continue;
                }
                double m = -std::numeric_limits<double>::infinity();
                for (int64_t j = 0; j < len; j++) m = std::max(m, at(j));
                double sum = 0;
                for (int64_t j = 0; j < len; j++) sum += exp_of(at(j) - m);
                const double log_sum = std::log(sum);
                for (int64_t j = 0; j < len; j++)
                    y[base + j * inner] = store(k_ == SoftmaxKind::softmax ? exp_of(at(j) - m) / sum : (at(j) - m) - log_sum);
            }
        }, std::max<int64_t>(1, 16384 / len));
    }

    SoftmaxKind k_;
    int64_t axis_;
    bool coerce_2d_;
};

}  // namespace

OpPtr softmax(SoftmaxKind k, int64_t axis, bool coerce_2d) { return std::make_shared<Softmax>(k, axis, coerce_2d); }

}  // namespace lmx::ops::nd
