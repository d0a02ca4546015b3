#include "ops/nd/group_query_attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/nd/nd.hpp"
#include "ops/nd/rotary_ms.hpp"

namespace lmx::ops::nd {

namespace {

enum Input { kQuery, kKey, kValue, kPastKey, kPastValue, kSeqlens, kTotal, kCos, kSin, kPositions, kBias };

// Everything the inputs' dims and small values determine.
struct Shape {
    int64_t batch, seq, head_size, past, total, present;
    bool packed;             // q, k and v in one tensor
    int64_t rotary_dim = 0;  // 0: no rotary
};

float as_float(const void* p, DType t, int64_t i) {
    return visit_dtype(t, "tensor", [&](auto v) -> float {
        using T = decltype(v);
        if constexpr (is_floating<T>) return static_cast<float>(static_cast<Compute<T>>(static_cast<const T*>(p)[i]));
        else return 0.0f;
    });
}

// n values of a float tensor from element i on, as f32.
void read_floats(const Tensor& t, int64_t i, int64_t n, float* dst) {
    visit_dtype(t.dtype, "tensor", [&](auto v) {
        using T = decltype(v);
        if constexpr (is_floating<T>) {
            const T* src = t.as<T>() + i;
            for (int64_t j = 0; j < n; j++) dst[j] = static_cast<float>(static_cast<Compute<T>>(src[j]));
        }
    });
}

void write_floats(const Tensor& t, int64_t i, int64_t n, const float* src) {
    visit_dtype(t.dtype, "tensor", [&](auto v) {
        using T = decltype(v);
        if constexpr (is_floating<T>) {
            T* dst = t.as<T>() + i;
            for (int64_t j = 0; j < n; j++) dst[j] = static_cast<T>(src[j]);
        }
    });
}

// Each value of x rounded to type t's precision (a no-op for f32).
void round_to(DType t, std::vector<float>& x) {
    visit_dtype(t, "tensor", [&](auto v) {
        using T = decltype(v);
        if constexpr (is_floating<T> && !std::is_same_v<T, float>)
            for (float& f : x) f = static_cast<float>(static_cast<Compute<T>>(static_cast<T>(f)));
    });
}

class GroupQueryAttention final : public NamedOp {
public:
    explicit GroupQueryAttention(const GqaParams& p) : NamedOp("GroupQueryAttention"), p_(p) {
        require(p.num_heads > 0 && p.kv_num_heads > 0 && p.num_heads % p.kv_num_heads == 0, "num_heads ", p.num_heads,
                " must be a positive multiple of kv_num_heads ", p.kv_num_heads);
        require(p.softcap >= 0, "attribute 'softcap' must be >= 0, got ", p.softcap);
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 7, 11);
        const Shape s = shape(in);
        const DType t = in[kQuery]->dtype;
        const Dims kv{s.batch, p_.kv_num_heads, s.present, s.head_size};
        return {{t, {s.batch, s.seq, p_.num_heads * s.head_size}}, {t, kv}, {t, kv}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        std::vector<Value> vals(in.size());
        std::vector<const Value*> ptrs;
        for (size_t i = 0; i < in.size(); i++) {
            vals[i].kind = in[i].data ? graph::ValueKind::input : graph::ValueKind::absent;
            vals[i].dtype = in[i].dtype, vals[i].dims = in[i].dims, vals[i].data = in[i].data;
            ptrs.push_back(&vals[i]);
        }
        const Shape s = shape(ptrs);
        const int64_t B = s.batch, S = s.seq, D = s.head_size, H = p_.num_heads, Hkv = p_.kv_num_heads, T = s.present;
        const int32_t* seqlens = in[kSeqlens].as<int32_t>();
        // The first prompt (S == total) has no past; later calls continue each sequence
        // after its past_seqlen = total_b - S tokens.
        const bool first_prompt = S == s.total;
        std::vector<int64_t> past_len(static_cast<size_t>(B)), total_len(static_cast<size_t>(B));
        for (int64_t b = 0; b < B; b++) {
            const int64_t tb = static_cast<int64_t>(seqlens[b]) + 1;
            require(tb >= 1 && tb <= T, "seqlens_k[", b, "] = ", seqlens[b], " is outside [0, ", T, ")");
            require(!present(in, kBias) || tb <= s.total, "seqlens_k[", b, "] = ", seqlens[b], " reaches past total_sequence_length ", s.total);
            const int64_t pb = first_prompt ? 0 : tb - S;
            require(pb >= 0 && pb <= s.past, "seqlens_k[", b, "] = ", seqlens[b], " leaves ", pb, " past tokens, but past_key holds ", s.past);
            past_len[static_cast<size_t>(b)] = pb, total_len[static_cast<size_t>(b)] = tb;
        }
        const int64_t* pos_ids = present(in, kPositions) ? in[kPositions].as<int64_t>() : nullptr;
        const int64_t max_pos = s.rotary_dim ? in[kCos].dims[0] : 0;
        // Rotary positions: position_ids when given (in the first prompt onnxruntime reads
        // only position_ids[0, 0], and every sequence counts up from it), else each token's
        // cache slot.
        auto position = [&](int64_t b, int64_t q) {
            if (!pos_ids) return past_len[static_cast<size_t>(b)] + q;
            return first_prompt ? pos_ids[0] + q : pos_ids[b * S + q];
        };
        if (s.rotary_dim)
            for (int64_t b = 0; b < B; b++)
                for (int64_t q = 0; q < S; q++)
                    require(position(b, q) >= 0 && position(b, q) < max_pos, "position ", position(b, q), " is outside the cos/sin caches' ", max_pos, " positions");

        // q, k, v of the new tokens as f32 [B, S, heads, D], rotated.
        const int64_t row = s.packed ? (H + 2 * Hkv) * D : 0;
        std::vector<float> q(static_cast<size_t>(B * S * H * D)), k(static_cast<size_t>(B * S * Hkv * D)), v(k.size());
        for (int64_t bs = 0; bs < B * S; bs++) {
            if (s.packed) {
                read_floats(in[kQuery], bs * row, H * D, &q[static_cast<size_t>(bs * H * D)]);
                read_floats(in[kQuery], bs * row + H * D, Hkv * D, &k[static_cast<size_t>(bs * Hkv * D)]);
                read_floats(in[kQuery], bs * row + (H + Hkv) * D, Hkv * D, &v[static_cast<size_t>(bs * Hkv * D)]);
            } else {
                read_floats(in[kQuery], bs * H * D, H * D, &q[static_cast<size_t>(bs * H * D)]);
                read_floats(in[kKey], bs * Hkv * D, Hkv * D, &k[static_cast<size_t>(bs * Hkv * D)]);
                read_floats(in[kValue], bs * Hkv * D, Hkv * D, &v[static_cast<size_t>(bs * Hkv * D)]);
            }
        }
        if (s.rotary_dim) {
            const int64_t half = s.rotary_dim / 2;
            std::vector<float> c(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
            for (int64_t bs = 0; bs < B * S; bs++) {
                const int64_t p = position(bs / S, bs % S);
                read_floats(in[kCos], p * half, half, c.data());
                read_floats(in[kSin], p * half, half, sn.data());
                for (int64_t h = 0; h < H; h++) {
                    float* x = &q[static_cast<size_t>((bs * H + h) * D)];
                    rotate_head(x, x, c.data(), sn.data(), s.rotary_dim, D, p_.rotary_interleaved);
                }
                for (int64_t h = 0; h < Hkv; h++) {
                    float* x = &k[static_cast<size_t>((bs * Hkv + h) * D)];
                    rotate_head(x, x, c.data(), sn.data(), s.rotary_dim, D, p_.rotary_interleaved);
                }
            }
            // onnxruntime keeps the rotated q and k in the input type: round them as it does.
            round_to(in[kQuery].dtype, q);
            round_to(in[kQuery].dtype, k);
        }

        // The caches as f32 [B, Hkv, T, D] (present_key/value themselves when f32): each
        // sequence's past, then its new tokens; positions past those stay zero.
        const int64_t cache_elems = B * Hkv * T * D;
        const bool direct = out[1].dtype == DType::F32;
        std::vector<float> kbuf(direct ? 0 : static_cast<size_t>(cache_elems)), vbuf(kbuf.size());
        float* kc = direct ? out[1].as<float>() : kbuf.data();
        float* vc = direct ? out[2].as<float>() : vbuf.data();
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < Hkv; h++) {
                const int64_t pb = past_len[static_cast<size_t>(b)];
                const int64_t dst = (b * Hkv + h) * T * D;
                if (pb > 0) {
                    const int64_t src = (b * Hkv + h) * s.past * D;
                    read_floats(in[kPastKey], src, pb * D, kc + dst);
                    read_floats(in[kPastValue], src, pb * D, vc + dst);
                }
                const int64_t end = std::min(pb + S, T);
                for (int64_t t = 0; pb + t < end; t++) {
                    const size_t from = static_cast<size_t>(((b * S + t) * Hkv + h) * D);
                    std::copy_n(&k[from], D, kc + dst + (pb + t) * D);
                    std::copy_n(&v[from], D, vc + dst + (pb + t) * D);
                }
                std::fill(kc + dst + end * D, kc + dst + T * D, 0.0f);
                std::fill(vc + dst + end * D, vc + dst + T * D, 0.0f);
            }
        if (!direct) {
            write_floats(out[1], 0, cache_elems, kc);
            write_floats(out[2], 0, cache_elems, vc);
        }

        const float scale = p_.scale != 0 ? p_.scale : 1.0f / std::sqrt(static_cast<float>(D));
        const kernels::VecDotFn dot = ctx.kernels.weight[static_cast<int>(DType::F32)].vec_dot;
        const Tensor* bias = present(in, kBias) ? &in[kBias] : nullptr;
        const int64_t group = H / Hkv;
        std::vector<float> y(q.size());
        // One task per (batch, head, query token).
        parallel_for(ctx, B * H * S, [&](int64_t lo, int64_t hi) {
            std::vector<float> score(static_cast<size_t>(T));
            for (int64_t task = lo; task < hi; task++) {
                const int64_t b = task / (H * S), h = task / S % H, t = task % S;
                const int64_t p = past_len[static_cast<size_t>(b)] + t;  // the token's place in the cache
                const int64_t last = std::min(p, total_len[static_cast<size_t>(b)] - 1);
                const int64_t first = p_.local_window_size > 0 ? std::max<int64_t>(0, p - p_.local_window_size) : 0;
                const float* qv = &q[static_cast<size_t>(((b * S + t) * H + h) * D)];
                const int64_t cache = (b * Hkv + h / group) * T * D;
                float* yv = &y[static_cast<size_t>(((b * S + t) * H + h) * D)];
                std::fill(yv, yv + D, 0.0f);
                if (last < first) continue;
                float mx = -std::numeric_limits<float>::infinity();
                for (int64_t j = first; j <= last; j++) {
                    float x = dot(D, kc + cache + j * D, qv) * scale;
                    if (bias) {
                        const Dims& bd = bias->dims;
                        x += as_float(bias->data, bias->dtype, (((bd[0] == 1 ? 0 : b) * bd[1] + (bd[1] == 1 ? 0 : h)) * S + t) * bd[3] + j);
                    }
                    if (p_.softcap > 0) x = p_.softcap * std::tanh(x / p_.softcap);
                    score[static_cast<size_t>(j)] = x;
                    mx = std::max(mx, x);
                }
                if (p_.smooth_softmax) mx = std::max(mx, 0.0f);
                float sum = p_.smooth_softmax ? std::exp(-mx) : 0.0f;
                for (int64_t j = first; j <= last; j++) sum += score[static_cast<size_t>(j)] = std::exp(score[static_cast<size_t>(j)] - mx);
                const float inv = 1.0f / sum;
                for (int64_t j = first; j <= last; j++) {
                    const float w = score[static_cast<size_t>(j)] * inv;
                    const float* vv = vc + cache + j * D;
                    for (int64_t d = 0; d < D; d++) yv[d] += w * vv[d];
                }
            }
        });
        write_floats(out[0], 0, static_cast<int64_t>(y.size()), y.data());
    }

private:
    Shape shape(std::span<const Value* const> in) const {
        const DType t = in[kQuery]->dtype;
        require(is_float_dtype(t), "query must be a float type, got ", dtype_name(t));
        for (int i : {kKey, kValue, kPastKey, kPastValue, kCos, kSin, kBias})
            if (present(in, static_cast<size_t>(i)))
                require(in[static_cast<size_t>(i)]->dtype == t, "input ", i, " must be ", dtype_name(t), " like query, got ", dtype_name(in[static_cast<size_t>(i)]->dtype));
        const int64_t H = p_.num_heads, Hkv = p_.kv_num_heads;
        const Dims& qd = in[kQuery]->dims;
        require(qd.size() == 3, "query must be [batch, sequence, hidden], got ", graph::dims_text(qd));
        Shape s{};
        s.batch = qd[0], s.seq = qd[1];
        s.packed = !present(in, kKey);
        require(present(in, kKey) == present(in, kValue), "key and value must be given together (or neither, for packed QKV)");
        const int64_t heads = s.packed ? H + 2 * Hkv : H;
        require(qd[2] % heads == 0, "query's last dim ", qd[2], " is not a multiple of ", heads, s.packed ? " (packed QKV) heads" : " heads");
        s.head_size = qd[2] / heads;
        require(s.head_size > 0, "head size must be > 0");
        const Dims kv{s.batch, s.seq, Hkv * s.head_size};
        if (!s.packed)
            require(in[kKey]->dims == kv && in[kValue]->dims == kv, "key and value must be ", graph::dims_text(kv), ", got ",
                    graph::dims_text(in[kKey]->dims), " and ", graph::dims_text(in[kValue]->dims));
        require(present(in, kPastKey) == present(in, kPastValue), "past_key and past_value must be given together");
        if (present(in, kPastKey)) {
            const Dims& pk = in[kPastKey]->dims;
            require(pk.size() == 4 && pk[0] == s.batch && pk[1] == Hkv && pk[3] == s.head_size && in[kPastValue]->dims == pk,
                    "past_key and past_value must be [batch, kv_num_heads, past, head_size] = [", s.batch, ", ", Hkv, ", P, ", s.head_size,
                    "], got ", graph::dims_text(pk), " and ", graph::dims_text(in[kPastValue]->dims));
            s.past = pk[2];
        }
        require(present(in, kSeqlens) && in[kSeqlens]->dtype == DType::I32 && in[kSeqlens]->dims == Dims{s.batch},
                "seqlens_k must be int32 [batch] = [", s.batch, "]");
        require(present(in, kTotal) && in[kTotal]->dtype == DType::I32 && elements(in[kTotal]->dims) == 1,
                "total_sequence_length must be one int32");
        s.total = read_ints(*in[kTotal], "total_sequence_length")[0];
        require(s.total >= s.seq, "total_sequence_length ", s.total, " is less than the sequence length ", s.seq);
        s.present = std::max(s.past, s.total);
        require(present(in, kCos) == present(in, kSin), "cos_cache and sin_cache must be given together");
        if (p_.do_rotary) {
            require(present(in, kCos), "do_rotary needs cos_cache and sin_cache");
            const Dims& c = in[kCos]->dims;
            require(c.size() == 2 && in[kSin]->dims == c && c[1] > 0 && 2 * c[1] <= s.head_size,
                    "cos_cache and sin_cache must be [max_pos, rotary_dim / 2] alike with rotary_dim <= head size ", s.head_size, ", got ",
                    graph::dims_text(c), " and ", graph::dims_text(in[kSin]->dims));
            s.rotary_dim = 2 * c[1];
        }
        if (present(in, kPositions))
            require(in[kPositions]->dtype == DType::I64 && in[kPositions]->dims == Dims({s.batch, s.seq}), "position_ids must be int64 [batch, sequence]");
        if (present(in, kBias)) {
            const Dims& bd = in[kBias]->dims;
            require(bd.size() == 4 && (bd[0] == 1 || bd[0] == s.batch) && (bd[1] == 1 || bd[1] == H) && bd[2] == s.seq && bd[3] == s.total,
                    "attention_bias must be [batch or 1, num_heads or 1, sequence, total] = [", s.batch, ", ", H, ", ", s.seq, ", ", s.total,
                    "], got ", graph::dims_text(bd));
        }
        return s;
    }

    GqaParams p_;
};

}  // namespace

OpPtr group_query_attention(const GqaParams& p) { return std::make_shared<GroupQueryAttention>(p); }

}  // namespace lmx::ops::nd
