#include <cstring>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

class GatherRows final : public NamedOp {
public:
    GatherRows() : NamedOp("gather_rows") {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[0]->dims.size() == 2, "x must be f32 [T, D]");
        require(in[1]->dtype == DType::I32 && in[1]->dims.size() == 1, "rows must be i32 [O]");
        return {{DType::F32, {in[1]->dims[0], in[0]->dims[1]}}};
    }
    void run(graph::ExecContext&, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const int64_t n = in[0].dims[0], d = in[0].dims[1];
        const int32_t* rows = in[1].as<int32_t>();
        for (int64_t o = 0; o < in[1].dims[0]; o++) {
            if (rows[o] < 0 || rows[o] >= n) fail("gather_rows: row ", rows[o], " outside [0, ", n, ")");
            std::memcpy(out[0].as<float>() + o * d, in[0].as<float>() + rows[o] * d, static_cast<size_t>(d) * sizeof(float));
        }
    }
};

OpPtr gather_rows() { return std::make_shared<GatherRows>(); }

}  // namespace lmx::ops
