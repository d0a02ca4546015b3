#include "ops/nd/matmul_nbits.hpp"

#include <algorithm>
#include <vector>

#include "ops/nd/nd.hpp"
#include "ops/packed_tiles.hpp"
#include "ops/panel_gemm.hpp"

namespace lmx::ops::nd {

namespace {

class MatMulNBits final : public NamedOp {
public:
    MatMulNBits(const MatMulNBitsParams& p, std::shared_ptr<const kernels::PackedWeights> packed,
                std::shared_ptr<const U4F32Weights> f32 = nullptr)
        : NamedOp("MatMulNBits"), p_(p), packed_(std::move(packed)), f32_(std::move(f32)) {
        require(p.bits == 2 || p.bits == 4 || p.bits == 8, "attribute 'bits' must be 2, 4 or 8, got ", p.bits);
        require(p.block_size >= 16 && (p.block_size & (p.block_size - 1)) == 0, "attribute 'block_size' must be a power of 2 >= 16, got ", p.block_size);
        require(p.k > 0 && p.n > 0, "attributes 'K' and 'N' must be > 0, got ", p.k, " and ", p.n);
        blocks_ = (p.k + p.block_size - 1) / p.block_size;
        if (packed_)
            require(packed_->layout() == kernels::PackedLayout::u4 && packed_->n() == p.n && packed_->k() == p.k && p.int8_products(),
                    "the repacked weights do not fit this 4-bit, accuracy_level 4 MatMulNBits");
        blob_ = p.block_size * p.bits / 8;
        zp_row_bytes_ = (blocks_ * p.bits + 7) / 8;
        if (f32_)
            require(p.bits == 4 && static_cast<int64_t>(f32_->offsets.size()) == p.n * blocks_ &&
                        static_cast<int64_t>(f32_->b.size()) == p.n * blocks_ * blob_,
                    "the prepared 4-bit weights do not fit this MatMulNBits");
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 6);
        const DType t = in[0]->dtype;
        require(is_float_dtype(t), "A must be a float type, got ", dtype_name(t));
        const Dims& a = in[0]->dims;
        require(!a.empty() && a.back() == p_.k, "A ", graph::dims_text(a), " must have K = ", p_.k, " as its last dim");
        require(in[1]->dtype == DType::U8, "B must be uint8, got ", dtype_name(in[1]->dtype));
        require(elements(in[1]->dims) == p_.n * blocks_ * blob_, "B ", graph::dims_text(in[1]->dims), " must hold [N, k_blocks, blob] = [",
                p_.n, ", ", blocks_, ", ", blob_, "] bytes");
        require(in[2]->dtype == t, "scales must be ", dtype_name(t), " like A, got ", dtype_name(in[2]->dtype));
        require(elements(in[2]->dims) == p_.n * blocks_, "scales ", graph::dims_text(in[2]->dims), " must hold N·k_blocks = ", p_.n * blocks_, " values");
        if (present(in, 3)) {
            const DType z = in[3]->dtype;
            if (z == DType::U8)
                require(elements(in[3]->dims) == p_.n * zp_row_bytes_, "packed zero_points ", graph::dims_text(in[3]->dims), " must hold ",
                        p_.n * zp_row_bytes_, " bytes");
            else
                require(z == t && elements(in[3]->dims) == p_.n * blocks_, "zero_points must be uint8 (packed) or ", dtype_name(t),
                        " with N·k_blocks = ", p_.n * blocks_, " values, got ", dtype_name(z), " ", graph::dims_text(in[3]->dims));
        }
        if (present(in, 4)) {
            check_g_idx(*in[4]);
            require(!present(in, 3) || in[3]->dtype != DType::U8,
                    "g_idx with packed uint8 zero_points is not supported (onnxruntime ignores the zero points then)");
        }
        if (present(in, 5)) require(in[5]->dtype == t && elements(in[5]->dims) == p_.n, "bias must be ", dtype_name(t), " with N = ", p_.n, " values");
        Dims y = a;
        y.back() = p_.n;
        return {{t, y}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[0].dtype, "A", [&](auto t) {
            using T = decltype(t);
            if constexpr (is_floating<T>) run_typed<T>(ctx, in, out[0]);
        });
    }

private:
    // g_idx maps each k to its block; only the plain order k / block_size (what exporters
    // write when act-order was off) is supported.
    void check_g_idx(const Value& g) const {
        require(g.dtype == DType::I32 && elements(g.dims) == p_.k, "g_idx must be int32 with K = ", p_.k, " values");
        require(g.data != nullptr, "g_idx must be known before the node runs");
        const int32_t* v = static_cast<const int32_t*>(g.data);
        for (int64_t k = 0; k < p_.k; k++)
            require(v[k] == k / p_.block_size, "g_idx (act-order quantization) is not supported: g_idx[", k, "] = ", v[k], ", not k / block_size");
    }

    // Zero point of block b of row n, as float.
    template <class T>
    float zero_point(const Tensor* zp, int64_t n, int64_t b) const {
        if (!zp) return static_cast<float>(1 << (p_.bits - 1));
        if (zp->dtype != DType::U8) return static_cast<float>(static_cast<Compute<T>>(zp->as<T>()[n * blocks_ + b]));
        const int64_t bit = b * p_.bits;
        const uint8_t byte = zp->as<uint8_t>()[n * zp_row_bytes_ + bit / 8];
        return static_cast<float>((byte >> (bit % 8)) & ((1 << p_.bits) - 1));
    }

    // Row n of the weights dequantized into w[0, K) (2 and 8 bits, and zero points of A's
    // type; run_u4 takes the rest): first every value unpacked into u[0, K) as a byte,
    // then each block converted; both loops are simple enough for the compiler to vectorize.
    template <class T>
    void dequantize_row(const uint8_t* b, const T* scales, const Tensor* zp, int64_t n, float* w, uint8_t* u) const {
        const uint8_t* q = b + n * blocks_ * blob_;  // the row's blocks, each blob_ bytes (K padded to whole blocks)
        const int64_t padded = blocks_ * p_.block_size;
        if (p_.bits == 8) {
            std::copy_n(q, padded, u);
        } else if (p_.bits == 4) {
            for (int64_t i = 0; i < padded / 2; i++) {
                u[2 * i] = static_cast<uint8_t>(q[i] & 0xF);
                u[2 * i + 1] = static_cast<uint8_t>(q[i] >> 4);
            }
        } else {
            for (int64_t i = 0; i < padded / 4; i++)
                for (int j = 0; j < 4; j++) u[4 * i + j] = static_cast<uint8_t>((q[i] >> (2 * j)) & 3);
        }
        for (int64_t blk = 0; blk < blocks_; blk++) {
            const float scale = static_cast<float>(static_cast<Compute<T>>(scales[n * blocks_ + blk]));
            const float z = zero_point<T>(zp, n, blk);
            const int64_t k0 = blk * p_.block_size, len = std::min(p_.block_size, p_.k - k0);
            for (int64_t i = k0; i < k0 + len; i++) w[i] = (static_cast<float>(u[i]) - z) * scale;
        }
    }

    template <class T>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        const int64_t k = p_.k, n = p_.n, m = in[0].rows();
        // A as f32 rows (a copy only for the half types).
        const float* a = nullptr;
        std::vector<float> a_conv;
        if constexpr (std::is_same_v<T, float>) {
            a = in[0].as<float>();
        } else {
            a_conv.resize(static_cast<size_t>(m * k));
            for (int64_t i = 0; i < m * k; i++) a_conv[static_cast<size_t>(i)] = static_cast<float>(in[0].as<T>()[i]);
            a = a_conv.data();
        }
        const uint8_t* b = f32_ ? f32_->b.data() : in[1].as<uint8_t>();  // the importer's copy holds the same bytes
        const T* scales = in[2].as<T>();
        const Tensor* zp = present(in, 3) ? &in[3] : nullptr;
        const T* bias = present(in, 5) ? in[5].as<T>() : nullptr;
        T* y = out.as<T>();
        if constexpr (std::is_same_v<T, float>) {
            const kernels::PackedFn fn = ctx.kernels.packed[static_cast<int>(kernels::PackedLayout::u4)];
            if (packed_ && fn && !ctx.deterministic) return run_packed(ctx, fn, a, m, bias, y);
        }
        const bool int8_products = p_.int8_products() && (!zp || zp->dtype == DType::U8);
        if constexpr (std::is_same_v<T, float>) {
            if (m > kernels::kMaxDotRows && !int8_products && !ctx.deterministic)
                return run_panels(ctx, a, m, b, scales, zp, bias, y);
        }
        if (p_.bits == 4 && (!zp || zp->dtype == DType::U8)) {
            if (int8_products)
                run_u4_q8<T>(ctx, a, m, b, scales, zp ? zp->as<uint8_t>() : nullptr, bias, y);
            else
                run_u4<T>(ctx, a, m, b, scales, zp ? zp->as<uint8_t>() : nullptr, bias, y);
            return;
        }
        const kernels::VecDotFn dot = ctx.kernels.weight[static_cast<int>(DType::F32)].vec_dot;
        // Tasks are tiles of columns: each dequantizes its rows of B once into f32 and
        // dots them with every row of A, which it reads once per tile. A few rows of A
        // (decoding) take one column at a time, its f32 row staying in L1; more rows
        // take tiles of up to 128 KB, so each A row read serves several columns.
        const int64_t tile = m <= 4 ? 1 : std::clamp<int64_t>(32768 / k, 1, 16);
        const int64_t tiles = (n + tile - 1) / tile;
        parallel_for(ctx, tiles, [&](int64_t lo, int64_t hi) {
            std::vector<float> w(static_cast<size_t>(tile * k));
            std::vector<uint8_t> u(static_cast<size_t>(blocks_ * p_.block_size));
            for (int64_t t = lo; t < hi; t++) {
                const int64_t n0 = t * tile, n1 = std::min(n, n0 + tile);
                for (int64_t j = n0; j < n1; j++) dequantize_row<T>(b, scales, zp, j, w.data() + (j - n0) * k, u.data());
                for (int64_t r = 0; r < m; r++)
                    for (int64_t j = n0; j < n1; j++) {
                        float v = dot(k, w.data() + (j - n0) * k, a + r * k);
                        if (bias) v += static_cast<float>(static_cast<Compute<T>>(bias[j]));
                        y[r * n + j] = static_cast<T>(v);
                    }
            }
        });
    }

    // 4-bit weights with packed zero points (or none), the common export: the kernel
    // table's dot unpacks the weights straight from their bytes, once per group of up to
    // four rows of A, and dots four weight rows at a time, so each A vector read serves
    // four. Tasks are tiles of columns: 16 when decoding; 64 for more rows, whose packed
    // weights (64 × K/2 bytes) stay in cache while each group of A rows passes over them.
    template <class T>
    void run_u4(graph::ExecContext& ctx, const float* a, int64_t m, const uint8_t* b, const T* scales, const uint8_t* zp, const T* bias,
                T* y) const {
        const int64_t k = p_.k, n = p_.n;
        const int64_t tile = m <= kernels::kMaxDotRows ? 16 : 64;
        const int64_t cols = kernels::kMaxDotRows;  // weight rows a kernel call
        parallel_for(ctx, (n + tile - 1) / tile, [&](int64_t lo, int64_t hi) {
            std::vector<float> tile_scales;  // the tile's scales as f32 (half types only)
            for (int64_t t = lo; t < hi; t++) {
                const int64_t n0 = t * tile, n1 = std::min(n, n0 + tile);
                const float* s = nullptr;
                if constexpr (std::is_same_v<T, float>) {
                    s = scales + n0 * blocks_;
                } else {
                    tile_scales.resize(static_cast<size_t>((n1 - n0) * blocks_));
                    for (size_t i = 0; i < tile_scales.size(); i++)
                        tile_scales[i] = static_cast<float>(static_cast<Compute<T>>(scales[n0 * blocks_ + static_cast<int64_t>(i)]));
                    s = tile_scales.data();
                }
                for (int64_t r0 = 0; r0 < m; r0 += kernels::kMaxDotRows) {
                    const int nr = static_cast<int>(std::min<int64_t>(kernels::kMaxDotRows, m - r0));
                    const float* rows[kernels::kMaxDotRows];
                    for (int r = 0; r < nr; r++) rows[r] = a + (r0 + r) * k;
                    for (int64_t j0 = n0; j0 < n1; j0 += cols) {
                        const int nw = static_cast<int>(std::min(cols, n1 - j0));
                        const float* offsets = std::is_same_v<T, float> && f32_ ? f32_->offsets.data() + j0 * blocks_ : nullptr;
                        const kernels::U4Weights w{b + j0 * blocks_ * blob_, s + (j0 - n0) * blocks_, zp ? zp + j0 * zp_row_bytes_ : nullptr,
                                                   blocks_ * blob_, blocks_, zp_row_bytes_, offsets};
                        float v[kernels::kMaxDotRows * kernels::kMaxDotRows];
                        ctx.kernels.dot_u4_f32(k, p_.block_size, w, nw, rows, nr, v);
                        for (int c = 0; c < nw; c++) {
                            const int64_t j = j0 + c;
                            const float bj = bias ? static_cast<float>(static_cast<Compute<T>>(bias[j])) : 0.0f;
                            for (int r = 0; r < nr; r++) y[(r0 + r) * n + j] = static_cast<T>(bias ? v[r * nw + c] + bj : v[r * nw + c]);
                        }
                    }
                }
            }
        });
    }

    // Many rows of A (prefill) in f32: each task of the panel GEMM (ops/panel_gemm.hpp)
    // dequantizes the 32 weight rows of its two panels once, as its first k range begins,
    // and multiplies them with up to 96 rows of A, as a constant f32 MatMul does: the
    // weights are converted once per 96 rows instead of once per four.
    void run_panels(graph::ExecContext& ctx, const float* a, int64_t m, const uint8_t* b, const float* scales, const Tensor* zp,
                    const float* bias, float* y) const {
        const int64_t k = p_.k, n = p_.n;
        for_panel_tasks(ctx, m, n, k, [&](int64_t r0, int64_t nr, int64_t c0, int64_t cols, int64_t k0, int64_t k1) {
            thread_local std::vector<float> rows, panels;  // this thread's task: its weight rows, then as panels
            thread_local std::vector<uint8_t> unpacked;
            if (k0 == 0) {
                rows.resize(static_cast<size_t>(cols * k));
                panels.resize(static_cast<size_t>(kernels::f32_panels(cols) * k * kernels::kF32Panel));
                unpacked.resize(static_cast<size_t>(blocks_ * p_.block_size));
                for (int64_t j = 0; j < cols; j++) dequantize_row<float>(b, scales, zp, c0 + j, rows.data() + j * k, unpacked.data());
                kernels::pack_f32_panels(rows.data(), k, cols, k, true, panels.data());
            }
            ctx.kernels.gemm_f32_panels(nr, k, k0, k1, a + r0 * k, k, panels.data(), cols, y + r0 * n + c0, n, bias ? bias + c0 : nullptr, false);
        });
    }

    // accuracy_level 4: A's rows quantized to int8 once, then runs of up to 64 weight rows
    // against groups of up to four of them. Weight rows go in tiles of about 128 KB, every
    // group of A rows passing over a tile before the next (as ops/matmul.cpp does).
    template <class T>
    void run_u4_q8(graph::ExecContext& ctx, const float* a, int64_t m, const uint8_t* b, const T* scales, const uint8_t* zp, const T* bias,
                   T* y) const {
        const int64_t k = p_.k, n = p_.n, row_bytes = kernels::u4_q8_row_bytes(k);
        auto* act = static_cast<uint8_t*>(ctx.scratch(static_cast<size_t>(row_bytes * m)));
        parallel_for(ctx, m, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; r++) ctx.kernels.quantize_u4_q8(a + r * k, act + r * row_bytes, k, p_.block_size);
        });
        constexpr int64_t kRun = 64;
        const int64_t tile = std::max<int64_t>(kRun, 128 * 1024 / (blocks_ * blob_));
        parallel_for(ctx, n, [&](int64_t lo, int64_t hi) {
            std::vector<float> run_scales;  // the half types' scales as f32
            const void* rows[kernels::kMaxDotRows];
            float v[kernels::kMaxDotRows * kRun];
            for (int64_t j0 = lo; j0 < hi; j0 += tile) {
                const int64_t j1 = std::min(hi, j0 + tile);
                kernels::for_row_groups(m, [&](int64_t r0, int nr) {
                    for (int r = 0; r < nr; r++) rows[r] = act + (r0 + r) * row_bytes;
                    for (int64_t j = j0; j < j1; j += kRun) {
                        const int64_t nw = std::min(kRun, j1 - j);
                        const float* s = nullptr;
                        if constexpr (std::is_same_v<T, float>) {
                            s = scales + j * blocks_;
                        } else {
                            run_scales.resize(static_cast<size_t>(nw * blocks_));
                            for (size_t i = 0; i < run_scales.size(); i++)
                                run_scales[i] = static_cast<float>(static_cast<Compute<T>>(scales[j * blocks_ + static_cast<int64_t>(i)]));
                            s = run_scales.data();
                        }
                        const kernels::U4Weights w{b + j * blocks_ * blob_, s, zp ? zp + j * zp_row_bytes_ : nullptr, blocks_ * blob_, blocks_, zp_row_bytes_};
                        ctx.kernels.dot_u4_q8(k, p_.block_size, w, nw, rows, nr, v);
                        for (int r = 0; r < nr; r++)
                            for (int64_t c = 0; c < nw; c++) {
                                const float bj = bias ? static_cast<float>(static_cast<Compute<T>>(bias[j + c])) : 0.0f;
                                y[(r0 + r) * n + j + c] = static_cast<T>(bias ? v[r * nw + c] + bj : v[r * nw + c]);
                            }
                    }
                });
            }
        });
    }

public:
    const MatMulNBitsParams& params() const { return p_; }
    const kernels::PackedWeights* packed() const { return packed_.get(); }

    // A's m rows quantized to int8 as onnxruntime does (in ctx's scratch).
    QuantizedRows quantize_a(graph::ExecContext& ctx, const float* a, int64_t m) const {
        const int64_t k = p_.k, row_bytes = kernels::u4_q8_row_bytes(k);
        auto* act = static_cast<uint8_t*>(ctx.scratch(static_cast<size_t>(row_bytes * m)));
        parallel_for(ctx, m, [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; r++) ctx.kernels.quantize_u4_q8(a + r * k, act + r * row_bytes, k, p_.block_size);
        });
        return {act, static_cast<size_t>(row_bytes), m};
    }

private:
    // The repacked weights: A's rows quantized once, then the tiles split over the threads,
    // each tile against every group of A rows (ops/packed_tiles.hpp).
    void run_packed(graph::ExecContext& ctx, kernels::PackedFn fn, const float* a, int64_t m, const float* bias, float* y) const {
        const PackedMember member{fn, packed_.get(), bias, y};
        packed_members(ctx, quantize_a(ctx, a, m), {&member, 1});
    }

    MatMulNBitsParams p_;
    std::shared_ptr<const kernels::PackedWeights> packed_;
    std::shared_ptr<const U4F32Weights> f32_;
    int64_t blocks_ = 0, blob_ = 0, zp_row_bytes_ = 0;
};

// Several repacked MatMulNBits of one A (a layer's q, k and v; gate and up): A is quantized
// once and one parallel pass covers the tiles of all, as ops/matmul.cpp's matmul_group does
// for GGUF weights. Inputs: A, then each member's B, scales and zero points (absent when it
// has none); an output per member. Without the u4 GEMM (deterministic mode, other CPUs)
// each member runs as its own MatMulNBits.
class MatMulNBitsGroup final : public NamedOp {
public:
    explicit MatMulNBitsGroup(std::vector<std::shared_ptr<const MatMulNBits>> ms) : NamedOp("MatMulNBits"), ms_(std::move(ms)) {
        require(ms_.size() >= 2, "a MatMulNBits group needs two members or more");
        for (const auto& m : ms_)
            require(m->packed() && m->params().k == ms_[0]->params().k && m->params().block_size == ms_[0]->params().block_size,
                    "the members of a MatMulNBits group must be repacked with one K and block_size");
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 1 + 3 * ms_.size(), 1 + 3 * ms_.size());
        std::vector<OutputSpec> outs;
        for (size_t i = 0; i < ms_.size(); i++) {
            const Value* const member[4] = {in[0], in[1 + 3 * i], in[2 + 3 * i], in[3 + 3 * i]};
            outs.push_back(ms_[i]->infer(member).at(0));
        }
        return outs;
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const kernels::PackedFn fn = ctx.kernels.packed[static_cast<int>(kernels::PackedLayout::u4)];
        if (fn && !ctx.deterministic && in[0].dtype == DType::F32) {
            std::vector<PackedMember> members;
            for (size_t i = 0; i < ms_.size(); i++) members.push_back({fn, ms_[i]->packed(), nullptr, out[i].as<float>()});
            packed_members(ctx, ms_[0]->quantize_a(ctx, in[0].as<float>(), in[0].rows()), members);
            return;
        }
        for (size_t i = 0; i < ms_.size(); i++) {
            const Tensor member[4] = {in[0], in[1 + 3 * i], in[2 + 3 * i], in[3 + 3 * i]};
            ms_[i]->run(ctx, member, out.subspan(i, 1));
        }
    }

private:
    std::vector<std::shared_ptr<const MatMulNBits>> ms_;
};

}  // namespace

OpPtr matmul_nbits_group(const std::vector<MatMulNBitsParams>& params, std::vector<std::shared_ptr<const kernels::PackedWeights>> packed) {
    require(params.size() == packed.size(), "a MatMulNBits group needs repacked weights per member");
    std::vector<std::shared_ptr<const MatMulNBits>> ms;
    for (size_t i = 0; i < params.size(); i++) ms.push_back(std::make_shared<const MatMulNBits>(params[i], std::move(packed[i])));
    return std::make_shared<MatMulNBitsGroup>(std::move(ms));
}

OpPtr matmul_nbits(const MatMulNBitsParams& p, std::shared_ptr<const kernels::PackedWeights> packed,
                   std::shared_ptr<const U4F32Weights> f32) {
    return std::make_shared<MatMulNBits>(p, std::move(packed), std::move(f32));
}

}  // namespace lmx::ops::nd
