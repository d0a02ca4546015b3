#include "ops/nd/matmul_nd.hpp"

#include "ops/nd/nd.hpp"
#include "ops/panel_gemm.hpp"

namespace lmx::ops::nd {

namespace {

// y[c0, c1) of one output row = Σ_k a[k] · b[k, c0..c1), k ascending: each output
// element sums in the same order however the work is split, and the inner loop runs
// along b's contiguous rows. f32 goes to the kernel table's rows_times_matrix_f32 instead
// (the same sums in its scalar version).
template <class T>
void row_times_matrix(const T* a, const T* b, T* y, int64_t k, int64_t n, int64_t c0, int64_t c1) {
    using C = Compute<T>;
    if constexpr (std::is_same_v<T, C>) {
        for (int64_t c = c0; c < c1; c++) y[c] = T{};
        for (int64_t i = 0; i < k; i++) {
            const C ai = a[i];
            const T* bi = b + i * n;
            for (int64_t c = c0; c < c1; c++) y[c] = static_cast<T>(y[c] + ai * bi[c]);
        }
    } else {  // half types: accumulate in float
        for (int64_t c = c0; c < c1; c++) {
            C acc = 0;
            for (int64_t i = 0; i < k; i++) acc += static_cast<C>(a[i]) * static_cast<C>(b[i * n + c]);
            y[c] = static_cast<T>(acc);
        }
    }
}

// With trans_b, b is [..., N, K] (the importer folds a Transpose of b's last two dims
// into the product, so the transposed copy is never made): y = Σ_k a[m, k] · b[n, k].
class MatMulNd final : public NamedOp {
public:
    MatMulNd(bool trans_b, std::shared_ptr<const std::vector<float>> panels)
        : NamedOp(trans_b ? "MatMul(transB)" : "MatMul"), trans_b_(trans_b), panels_(std::move(panels)) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == in[1]->dtype, "input types differ: ", dtype_name(in[0]->dtype), " and ", dtype_name(in[1]->dtype));
        require(is_float_dtype(in[0]->dtype) || is_int_dtype(in[0]->dtype), "inputs cannot be ", dtype_name(in[0]->dtype));
        const Dims& a = in[0]->dims;
        const Dims& b = in[1]->dims;
        require(!a.empty() && !b.empty(), "inputs must have at least one dim");
        require(!trans_b_ || b.size() >= 2, "a transposed b must have at least two dims");
        const int64_t ka = a.back(), kb = trans_b_ ? b.back() : b.size() == 1 ? b[0] : b[b.size() - 2];
        require(ka == kb, "inner dims differ: ", graph::dims_text(a), " × ", graph::dims_text(b), trans_b_ ? " (transposed)" : "");
        Dims batch = broadcast(Dims(a.begin(), a.end() - std::min<long>(2, static_cast<long>(a.size()))),
                               Dims(b.begin(), b.end() - std::min<long>(2, static_cast<long>(b.size()))));
        Dims y = batch;
        if (a.size() > 1) y.push_back(a[a.size() - 2]);
        if (b.size() > 1) y.push_back(trans_b_ ? b[b.size() - 2] : b.back());
        return {{in[0]->dtype, y}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "MatMul input", [&](auto t) { run_typed<decltype(t)>(ctx, in, out[0]); });
    }

private:
    template <class T>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        const Dims& ad = in[0].dims;
        const Dims& bd = in[1].dims;
        const int64_t m = ad.size() > 1 ? ad[ad.size() - 2] : 1, k = ad.back();
        const int64_t n = trans_b_ ? bd[bd.size() - 2] : bd.size() > 1 ? bd.back() : 1;
        // Batch dims of each input broadcast to the output's.
        const Dims a_batch(ad.begin(), ad.end() - std::min<long>(2, static_cast<long>(ad.size())));
        const Dims b_batch(bd.begin(), bd.end() - std::min<long>(2, static_cast<long>(bd.size())));
        const Dims batch = broadcast(a_batch, b_batch);
        std::vector<int64_t> a_off, b_off;
        for_each_broadcast<2>(batch, {&a_batch, &b_batch}, [&](int64_t, const std::array<int64_t, 2>& o) {
            a_off.push_back(o[0]);
            b_off.push_back(o[1]);
        });
        const T* a = in[0].as<T>();
        const T* b = in[1].as<T>();
        T* y = out.as<T>();
        if constexpr (std::is_same_v<T, float>) {
            if (panels_ && bd.size() == 2 && ad.size() >= 2) {  // every row of a against one b
                panel_gemm_f32(ctx, static_cast<int64_t>(a_off.size()) * m, k, n, a, panels_->data(), nullptr, false, y);
                return;
            }
        }
        if (trans_b_) {
            // One dot product per output element, over contiguous rows of a and b; tasks are
            // (batch, row) pairs.
            const auto f32_dot = ctx.kernels.weight[static_cast<int>(DType::F32)].vec_dot;
            parallel_for(ctx, static_cast<int64_t>(a_off.size()) * m, [&](int64_t lo, int64_t hi) {
                for (int64_t t = lo; t < hi; t++) {
                    const int64_t row = t % m, bi = t / m;
                    const T* arow = a + a_off[static_cast<size_t>(bi)] * m * k + row * k;
                    const T* bmat = b + b_off[static_cast<size_t>(bi)] * n * k;
                    T* yrow = y + t * n;
                    for (int64_t j = 0; j < n; j++) {
                        if constexpr (std::is_same_v<T, float>) {
                            yrow[j] = f32_dot(k, bmat + j * k, arow);
                        } else {
                            Compute<T> acc = 0;
                            for (int64_t i = 0; i < k; i++) acc += static_cast<Compute<T>>(arow[i]) * static_cast<Compute<T>>(bmat[j * k + i]);
                            yrow[j] = static_cast<T>(acc);
                        }
                    }
                }
            });
        } else if constexpr (std::is_same_v<T, float>) {
            // Tasks: (batch, group of up to 16 rows, 256-column chunk). The kernel passes
            // over the chunk of b once per four rows, from L2 after the first; a single row
            // (decode) still splits across threads by chunks.
            const int64_t group = 16, groups = (m + group - 1) / group;
            const int64_t chunk = 256, chunks = (n + chunk - 1) / chunk;
            const int64_t tasks = static_cast<int64_t>(a_off.size()) * groups * chunks;
            parallel_for(ctx, tasks, [&](int64_t lo, int64_t hi) {
                for (int64_t t = lo; t < hi; t++) {
                    const int64_t c = t % chunks, r0 = t / chunks % groups * group, bi = t / chunks / groups;
                    const float* arows = a + a_off[static_cast<size_t>(bi)] * m * k + r0 * k;
                    const float* bmat = b + b_off[static_cast<size_t>(bi)] * k * n;
                    ctx.kernels.rows_times_matrix_f32(std::min(group, m - r0), k, n, arows, bmat, y + (bi * m + r0) * n, c * chunk,
                                                      std::min(n, (c + 1) * chunk));
                }
            });
        } else {
            // Tasks: (batch, row, column chunk), so a single row still splits across threads.
            const int64_t chunk = 512;
            const int64_t chunks = (n + chunk - 1) / chunk;
            const int64_t tasks = static_cast<int64_t>(a_off.size()) * m * chunks;
            parallel_for(ctx, tasks, [&](int64_t lo, int64_t hi) {
                for (int64_t t = lo; t < hi; t++) {
                    const int64_t c = t % chunks, row = t / chunks % m, bi = t / chunks / m;
                    const T* arow = a + a_off[static_cast<size_t>(bi)] * m * k + row * k;
                    const T* bmat = b + b_off[static_cast<size_t>(bi)] * k * n;
                    T* yrow = y + (bi * m + row) * n;
                    row_times_matrix(arow, bmat, yrow, k, n, c * chunk, std::min(n, (c + 1) * chunk));
                }
            });
        }
    }

    bool trans_b_;
    std::shared_ptr<const std::vector<float>> panels_;
};

class Gemm final : public NamedOp {
public:
    explicit Gemm(const GemmParams& p) : NamedOp("Gemm"), p_(p) {}

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 3);
        const DType t = in[0]->dtype;
        require(in[1]->dtype == t && (!present(in, 2) || in[2]->dtype == t), "input types differ");
        require(is_float_dtype(t) || is_int_dtype(t), "inputs cannot be ", dtype_name(t));
        const Dims& a = in[0]->dims;
        const Dims& b = in[1]->dims;
        require(a.size() == 2 && b.size() == 2, "a and b must be 2-D, got ", graph::dims_text(a), " and ", graph::dims_text(b));
        const int64_t m = p_.trans_a ? a[1] : a[0], ka = p_.trans_a ? a[0] : a[1];
        const int64_t kb = p_.trans_b ? b[1] : b[0], n = p_.trans_b ? b[0] : b[1];
        require(ka == kb, "inner dims differ: ", ka, " vs ", kb);
        if (present(in, 2)) require(broadcast(in[2]->dims, {m, n}) == Dims{m, n}, "c ", graph::dims_text(in[2]->dims), " does not broadcast to [", m, ", ", n, "]");
        return {{t, {m, n}}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "Gemm input", [&](auto t) { run_typed<decltype(t)>(ctx, in, out[0]); });
    }

private:
    template <class T>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        using C = Compute<T>;
        const int64_t m = out.dims[0], n = out.dims[1];
        const int64_t k = p_.trans_a ? in[0].dims[0] : in[0].dims[1];
        const T* a = in[0].as<T>();
        const T* b = in[1].as<T>();
        // Element (i, j) of op(a) and op(b).
        const int64_t as0 = p_.trans_a ? 1 : k, as1 = p_.trans_a ? m : 1;
        const int64_t bs0 = p_.trans_b ? 1 : n, bs1 = p_.trans_b ? k : 1;
        std::vector<int64_t> cs;
        const Dims mn{m, n};
        if (present(in, 2)) cs = broadcast_strides(in[2].dims, mn);
        T* y = out.as<T>();
        parallel_for(ctx, m, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++)
                for (int64_t j = 0; j < n; j++) {
                    C acc = 0;
                    for (int64_t l = 0; l < k; l++) acc += static_cast<C>(a[i * as0 + l * as1]) * static_cast<C>(b[l * bs0 + j * bs1]);
                    C v = static_cast<C>(static_cast<C>(p_.alpha) * acc);
                    if (!cs.empty()) v = static_cast<C>(v + static_cast<C>(p_.beta) * static_cast<C>(in[2].as<T>()[i * cs[0] + j * cs[1]]));
                    y[i * n + j] = static_cast<T>(v);
                }
        });
    }

    GemmParams p_;
};

}  // namespace

OpPtr matmul(bool trans_b, std::shared_ptr<const std::vector<float>> panels) {
    return std::make_shared<MatMulNd>(trans_b, std::move(panels));
}
OpPtr gemm(const GemmParams& p) { return std::make_shared<Gemm>(p); }

}  // namespace lmx::ops::nd
