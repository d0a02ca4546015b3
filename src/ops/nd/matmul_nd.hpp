#pragma once
// ONNX's matrix products on plain (unquantized) tensors: MatMul with numpy batch
// broadcasting and 1-D promotion, and Gemm.
#include <memory>
#include <vector>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

// matmul(a [..., M, K], b [..., K, N]) -> [..., M, N]; a 1-D a or b is a row or column.
// trans_b: b is [..., N, K] (at least 2-D), the product a · bᵀ. panels: a constant 2-D f32
// b packed at import (kernels::pack_f32_panels), which f32 products then multiply on the
// panel GEMM instead of reading b.
OpPtr matmul(bool trans_b = false, std::shared_ptr<const std::vector<float>> panels = nullptr);

struct GemmParams {
    float alpha = 1.0f, beta = 1.0f;
    bool trans_a = false, trans_b = false;
};
// gemm(a [M, K] (or [K, M]), b [K, N] (or [N, K])[, c broadcast to [M, N]]) -> alpha·a·b + beta·c.
OpPtr gemm(const GemmParams& p);

}  // namespace lmx::ops::nd
