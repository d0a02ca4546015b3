#include "ops/nd/rotary_ms.hpp"

#include <vector>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

void rotate_head(const float* x, float* y, const float* cos, const float* sin, int64_t rotary_dim, int64_t head_size, bool interleaved) {
    const int64_t half = rotary_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        const int64_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
        const float xa = x[a], xb = x[b];
        y[a] = xa * cos[i] - xb * sin[i];
        y[b] = xb * cos[i] + xa * sin[i];
    }
    if (x != y)
        for (int64_t i = rotary_dim; i < head_size; i++) y[i] = x[i];
}

namespace {

class RotaryEmbeddingMs final : public NamedOp {
public:
    explicit RotaryEmbeddingMs(const RotaryMsParams& p) : NamedOp("RotaryEmbedding"), p_(p) {
        require(p.num_heads >= 0 && p.rotary_embedding_dim >= 0, "attributes 'num_heads' and 'rotary_embedding_dim' must be >= 0");
        require(p.rotary_embedding_dim == 0 || p.num_heads > 0, "attribute 'rotary_embedding_dim' needs 'num_heads'");
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 4, 4);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t), "input must be a float type, got ", dtype_name(t));
        require(in[2]->dtype == t && in[3]->dtype == t, "cos_cache and sin_cache must be ", dtype_name(t), " like the input");
        require(in[1]->dtype == DType::I64, "position_ids must be int64, got ", dtype_name(in[1]->dtype));
        const Dims& c = in[2]->dims;
        require(c.size() == 2 && in[3]->dims == c, "cos_cache and sin_cache must be [max_pos, rotary_dim / 2] alike, got ",
                graph::dims_text(c), " and ", graph::dims_text(in[3]->dims));
        const Shape s = shape(in[0]->dims, c);
        const Dims& pos = in[1]->dims;
        require(elements(pos) == 1 || pos == Dims{s.batch, s.seq}, "position_ids ", graph::dims_text(pos), " must be [1] or [batch, sequence] = [",
                s.batch, ", ", s.seq, "]");
        return {{t, in[0]->dims}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "input", [&](auto t) {
            using T = decltype(t);
            if constexpr (is_floating<T>) run_typed<T>(ctx, in, out[0]);
        });
    }

private:
    struct Shape {
        int64_t batch, seq, heads, head_size, rotary_dim;
        bool bnsh;  // 4-D input [B, H, S, D]
    };

    Shape shape(const Dims& x, const Dims& cache) const {
        require(x.size() == 3 || x.size() == 4, "input must be [batch, sequence, hidden] or [batch, heads, sequence, head_size], got ",
                graph::dims_text(x));
        Shape s{};
        s.batch = x[0];
        s.bnsh = x.size() == 4;
        if (s.bnsh) {
            s.heads = x[1], s.seq = x[2], s.head_size = x[3];
        } else {
            s.seq = x[1];
            const int64_t hidden = x[2];
            if (p_.num_heads > 0) {
                require(hidden % p_.num_heads == 0, "hidden size ", hidden, " is not a multiple of num_heads ", p_.num_heads);
                s.heads = p_.num_heads, s.head_size = hidden / p_.num_heads;
            } else {
                s.head_size = cache[1] * 2;
                require(s.head_size > 0 && hidden % s.head_size == 0, "hidden size ", hidden, " is not a multiple of the head size ", s.head_size,
                        " (2 · cos_cache's last dim); set num_heads");
                s.heads = hidden / s.head_size;
            }
        }
        s.rotary_dim = p_.rotary_embedding_dim > 0 ? p_.rotary_embedding_dim : s.head_size;
        require(s.rotary_dim % 2 == 0 && s.rotary_dim <= s.head_size, "rotary dim ", s.rotary_dim, " must be even and <= the head size ", s.head_size);
        require(cache[1] * 2 == s.rotary_dim, "cos_cache's last dim ", cache[1], " must be half the rotary dim ", s.rotary_dim);
        return s;
    }

    template <class T>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        const Shape s = shape(in[0].dims, in[2].dims);
        const int64_t max_pos = in[2].dims[0], half = s.rotary_dim / 2;
        const int64_t* pos = in[1].as<int64_t>();
        const bool offset = in[1].elements() == 1;
        for (int64_t i = 0, n = offset ? 1 : s.batch * s.seq; i < n; i++)
            require(pos[i] >= 0 && pos[i] + (offset ? s.seq - 1 : 0) < max_pos, "position id ", pos[i], (offset ? " + sequence" : ""),
                    " is outside the cos/sin caches' ", max_pos, " positions");
        const T* x = in[0].as<T>();
        const T* cos_t = in[2].as<T>();
        const T* sin_t = in[3].as<T>();
        T* y = out.as<T>();
        // Element strides of (batch, sequence, head) in either layout.
        const int64_t head_stride = s.bnsh ? s.seq * s.head_size : s.head_size;
        const int64_t seq_stride = s.bnsh ? s.head_size : s.heads * s.head_size;
        const int64_t batch_stride = s.heads * s.seq * s.head_size;
        parallel_for(ctx, s.batch * s.seq, [&](int64_t lo, int64_t hi) {
            std::vector<float> buf(static_cast<size_t>(s.head_size)), c(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
            for (int64_t bs = lo; bs < hi; bs++) {
                const int64_t b = bs / s.seq, q = bs % s.seq;
                const int64_t p = offset ? pos[0] + q : pos[bs];
                for (int64_t i = 0; i < half; i++) {
                    c[static_cast<size_t>(i)] = static_cast<float>(static_cast<Compute<T>>(cos_t[p * half + i]));
                    sn[static_cast<size_t>(i)] = static_cast<float>(static_cast<Compute<T>>(sin_t[p * half + i]));
                }
                for (int64_t h = 0; h < s.heads; h++) {
                    const int64_t off = b * batch_stride + q * seq_stride + h * head_stride;
                    for (int64_t i = 0; i < s.head_size; i++) buf[static_cast<size_t>(i)] = static_cast<float>(static_cast<Compute<T>>(x[off + i]));
                    rotate_head(buf.data(), buf.data(), c.data(), sn.data(), s.rotary_dim, s.head_size, p_.interleaved);
                    for (int64_t i = 0; i < s.head_size; i++) y[off + i] = static_cast<T>(buf[static_cast<size_t>(i)]);
                }
            }
        }, 4);
    }

    RotaryMsParams p_;
};

}  // namespace

OpPtr rotary_embedding_ms(const RotaryMsParams& p) { return std::make_shared<RotaryEmbeddingMs>(p); }

}  // namespace lmx::ops::nd
