#include "ops/nd/gather_block_quantized.hpp"

#include <vector>

#include "ops/nd/nd.hpp"

namespace lmx::ops::nd {

namespace {

class GatherBlockQuantized final : public NamedOp {
public:
    explicit GatherBlockQuantized(const GatherBlockQuantizedParams& p) : NamedOp("GatherBlockQuantized"), p_(p) {
        require(p.bits == 4 || p.bits == 8, "attribute 'bits' must be 4 or 8, got ", p.bits);
        require(p.block_size >= 16 && (p.block_size & (p.block_size - 1)) == 0, "attribute 'block_size' must be a power of 2 >= 16, got ", p.block_size);
    }

    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 3, 4);
        const Layout l = layout(in[0]->dtype, in[0]->dims, in[2]->dims, in[2]->dtype);
        require(in[1]->dtype == DType::I32 || in[1]->dtype == DType::I64, "indices must be int32 or int64, got ", dtype_name(in[1]->dtype));
        if (present(in, 3)) {
            require(in[3]->dtype == DType::U8, "zero_points must be uint8 like data, got ", dtype_name(in[3]->dtype));
            require(in[3]->dims == l.zp_dims, "zero_points ", graph::dims_text(in[3]->dims), " must be ", graph::dims_text(l.zp_dims),
                    " (scales' dims, last one packed)");
        }
        Dims out(l.dims.begin(), l.dims.begin() + l.gather_axis);
        out.insert(out.end(), in[1]->dims.begin(), in[1]->dims.end());
        out.insert(out.end(), l.dims.begin() + l.gather_axis + 1, l.dims.end());
        return {{in[2]->dtype, out}};
    }

    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        visit_dtype(in[2].dtype, "scales", [&](auto t) {
            using T = decltype(t);
            if constexpr (is_floating<T>) run_typed<T>(ctx, in, out[0]);
        });
    }

private:
    struct Layout {
        Dims dims;     // data unpacked
        Dims zp_dims;  // scales' dims, last one packed
        int64_t gather_axis, quantize_axis;
    };

    Layout layout(DType data_type, const Dims& data, const Dims& scales, DType scale_type) const {
        require(data_type == DType::U8, "data must be uint8 (packed), got ", dtype_name(data_type));
        require(is_float_dtype(scale_type), "scales must be a float type, got ", dtype_name(scale_type));
        require(!data.empty(), "data must have at least one dim");
        Layout l;
        const int64_t rank = static_cast<int64_t>(data.size());
        l.gather_axis = normalize_axis(p_.gather_axis, rank, "gather_axis");
        l.quantize_axis = normalize_axis(p_.quantize_axis, rank, "quantize_axis");
        l.dims = data;
        l.dims.back() *= 8 / p_.bits;
        Dims want = l.dims;
        const size_t qa = static_cast<size_t>(l.quantize_axis);
        want[qa] = (want[qa] + p_.block_size - 1) / p_.block_size;
        require(scales == want, "scales ", graph::dims_text(scales), " must be ", graph::dims_text(want), " (data's dims with ", p_.block_size,
                "-element blocks along quantize_axis)");
        l.zp_dims = scales;
        const int64_t per_byte = 8 / p_.bits;
        l.zp_dims.back() = (l.zp_dims.back() + per_byte - 1) / per_byte;
        return l;
    }

    template <class T>
    void run_typed(graph::ExecContext& ctx, std::span<const Tensor> in, Tensor& out) const {
        const Layout l = layout(in[0].dtype, in[0].dims, in[2].dims, in[2].dtype);
        const std::vector<int64_t> idx = read_ints(in[1], "indices");
        const size_t g = static_cast<size_t>(l.gather_axis), qa = static_cast<size_t>(l.quantize_axis);
        const int64_t axis_len = l.dims[g];
        for (int64_t i : idx) require(i >= -axis_len && i < axis_len, "index ", i, " is out of range for gather_axis of size ", axis_len);
        int64_t outer = 1, inner = 1;
        for (size_t d = 0; d < g; d++) outer *= l.dims[d];
        for (size_t d = g + 1; d < l.dims.size(); d++) inner *= l.dims[d];
        // Element l (flat, unpacked) has its scale at (l / (st·len)) · blocks·st + block · st + l % st,
        // where st and len are the stride and size of the quantized axis.
        const int64_t st = strides(l.dims)[qa], len = l.dims[qa], blocks = in[2].dims[qa];
        const int64_t per_byte = 8 / p_.bits, mask = (1 << p_.bits) - 1;
        const int64_t scale_last = in[2].dims.back(), zp_last = l.zp_dims.back();
        const uint8_t* data = in[0].as<uint8_t>();
        const T* scales = in[2].as<T>();
        const uint8_t* zp = present(in, 3) ? in[3].as<uint8_t>() : nullptr;
        const float default_zp = static_cast<float>(1 << (p_.bits - 1));
        T* y = out.as<T>();
        const int64_t n_idx = static_cast<int64_t>(idx.size());
        parallel_for(ctx, outer * n_idx, [&](int64_t lo, int64_t hi) {
            for (int64_t oi = lo; oi < hi; oi++) {
                const int64_t o = oi / n_idx, i = idx[static_cast<size_t>(oi % n_idx)];
                const int64_t base = (o * axis_len + (i < 0 ? i + axis_len : i)) * inner;
                T* dst = y + oi * inner;
                for (int64_t r = 0; r < inner; r++) {
                    const int64_t e = base + r;
                    const int64_t q = (data[e / per_byte] >> ((e % per_byte) * p_.bits)) & mask;
                    const int64_t s = e / (st * len) * blocks * st + e / st % len / p_.block_size * st + e % st;
                    float z = default_zp;
                    if (zp) {
                        const int64_t zr = s / scale_last, zc = s % scale_last;
                        z = static_cast<float>((zp[zr * zp_last + zc / per_byte] >> ((zc % per_byte) * p_.bits)) & mask);
                    }
                    dst[r] = static_cast<T>((static_cast<float>(q) - z) * static_cast<float>(static_cast<Compute<T>>(scales[s])));
                }
            }
        });
    }

    GatherBlockQuantizedParams p_;
};

}  // namespace

OpPtr gather_block_quantized(const GatherBlockQuantizedParams& p) { return std::make_shared<GatherBlockQuantized>(p); }

}  // namespace lmx::ops::nd
