#include "ops/nd/topk.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

class TopK final : public NamedOp {
public:
    TopK(int64_t axis, bool largest, std::optional<int64_t> k) : NamedOp("TopK"), axis_(axis), largest_(largest), k_(k) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, k_ ? 1 : 2, k_ ? 1 : 2);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t) || is_int_dtype(t), "input cannot be ", dtype_name(t));
        Dims dims = in[0]->dims;
        require(!dims.empty(), "input must have at least one dim");
        const size_t a = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(dims.size())));
        int64_t k = 0;
        if (k_) {
            k = *k_;
        } else {
            const std::vector<int64_t> ks = read_ints(*in[1], "k");
            require(ks.size() == 1, "k must hold one value, has ", ks.size());
            k = ks[0];
        }
        require(k >= 0 && k <= dims[a], "k = ", k, " is out of range for axis ", axis_, " of size ", dims[a]);
        dims[a] = k;
        return {{t, dims}, {DType::I64, dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Dims& d = in[0].dims;
        const size_t a = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(d.size())));
        const int64_t len = d[a], k = out[0].dims[a];
        int64_t outer = 1, inner = 1;
        for (size_t i = 0; i < d.size(); i++) {
            if (i < a) outer *= d[i];
            else if (i > a) inner *= d[i];
        }
        if (k == 0 || outer * inner == 0) return;
        int64_t* yi = out[1].as<int64_t>();
        visit_dtype(in[0].dtype, "input", [&](auto t) {
            using T = decltype(t);
            using C = Compute<T>;
            const T* x = in[0].as<T>();
            T* yv = out[0].as<T>();
            parallel_for(ctx, outer * inner, [&](int64_t lo, int64_t hi) {
                std::vector<C> v(static_cast<size_t>(len));
                std::vector<int64_t> order(static_cast<size_t>(len));
                // Whether element i goes before j: better value, NaN best when largest and worst
                // when smallest (numpy's sort puts NaN last), ties by lower index.
                auto before = [&](int64_t i, int64_t j) {
                    const C a = v[static_cast<size_t>(i)], b = v[static_cast<size_t>(j)];
                    if constexpr (std::is_floating_point_v<C>) {
                        const bool na = std::isnan(a), nb = std::isnan(b);
                        if (na || nb) return na && nb ? i < j : largest_ ? na : nb;
                    }
                    if (a != b) return largest_ ? a > b : a < b;
                    return i < j;
                };
                for (int64_t c = lo; c < hi; c++) {
                    const int64_t in_base = (c / inner) * len * inner + c % inner;
                    const int64_t out_base = (c / inner) * k * inner + c % inner;
                    for (int64_t j = 0; j < len; j++) v[static_cast<size_t>(j)] = static_cast<C>(x[in_base + j * inner]);
                    std::iota(order.begin(), order.end(), int64_t{0});
                    std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                    for (int64_t j = 0; j < k; j++) {
                        const int64_t src = order[static_cast<size_t>(j)];
                        yv[out_base + j * inner] = x[in_base + src * inner];
                        yi[out_base + j * inner] = src;
                    }
                }
            }, std::max<int64_t>(1, 16384 / len));
        });
    }

private:
    int64_t axis_;
    bool largest_;
    std::optional<int64_t> k_;
};

}  // namespace

OpPtr top_k(int64_t axis, bool largest, std::optional<int64_t> k) { return std::make_shared<TopK>(axis, largest, k); }

}  // namespace lmx::ops::nd
