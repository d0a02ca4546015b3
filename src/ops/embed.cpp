#include "ops/op_base.hpp"
#include "ops/ops.hpp"
#include "tensor/dequantize.hpp"

namespace lmx::ops {

class Embed final : public NamedOp {
public:
    Embed() : NamedOp("embed") {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dims.size() == 2, "table must be 2-D, got ", graph::dims_text(in[0]->dims));
        require(in[1]->dtype == DType::I32 && in[1]->dims.size() == 1, "ids must be i32 [T]");
        return {{DType::F32, {in[1]->dims[0], in[0]->dims[1]}}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const Tensor& table = in[0];
        const int64_t n_vocab = table.dims[0], dim = table.dims[1];
        const size_t row_bytes = dtype_row_bytes(table.dtype, dim);
        const int32_t* ids = in[1].as<int32_t>();
        for (int64_t t = 0; t < in[1].dims[0]; t++)
            if (ids[t] < 0 || ids[t] >= n_vocab) fail("token id ", ids[t], " is outside the vocabulary (", n_vocab, " tokens)");
        parallel_for(ctx, in[1].dims[0], [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; t++)
                dequantize_row(table.dtype, table.as<uint8_t>() + static_cast<size_t>(ids[t]) * row_bytes,
                               out[0].as<float>() + t * dim, dim);
        });
    }
};

OpPtr embed() { return std::make_shared<Embed>(); }

}  // namespace lmx::ops
