#include <cmath>

#include "ops/op_base.hpp"
#include "ops/ops.hpp"

namespace lmx::ops {

// Binary f32 ops over two same-shaped inputs.
template <class F>
class Binary final : public NamedOp {
public:
    Binary(const char* name, F f) : NamedOp(name), f_(f) {}
    std::vector<OutputSpec> infer(std::span<const Value* const> in) const override {
        require_inputs(in, 2, 2);
        require(in[0]->dtype == DType::F32 && in[1]->dtype == DType::F32, "inputs must be f32");
        require(in[0]->dims == in[1]->dims, "dims differ: ", graph::dims_to_string(in[0]->dims), " vs ",
                graph::dims_to_string(in[1]->dims));
        return {{DType::F32, in[0]->dims}};
    }
    void run(graph::ExecContext& ctx, std::span<const Tensor> in, std::span<Tensor> out) const override {
        const float *a = in[0].as<float>(), *b = in[1].as<float>();
        float* y = out[0].as<float>();
        parallel_for(ctx, in[0].elements(), [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; i++) y[i] = f_(a[i], b[i]);
        }, 16384);
    }

private:
    F f_;
};

template <class F>
static OpPtr make_binary(const char* name, F f) { return std::make_shared<Binary<F>>(name, f); }

OpPtr add() { return make_binary("add", [](float a, float b) { return a + b; }); }

OpPtr swiglu() {
    return make_binary("swiglu", [](float gate, float up) { return gate / (1.0f + std::exp(-gate)) * up; });
}

}  // namespace lmx::ops
