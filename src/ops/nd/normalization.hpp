#pragma once
// ONNX's normalizations over the trailing dims of x, f32 statistics for every input type:
// LayerNormalization and RMS norm (ONNX's RMSNormalization, onnxruntime's
// SimplifiedLayerNormalization), and onnxruntime's fused residual forms
// Skip(Simplified)LayerNormalization, which add skip (and bias) to x first.
#include "ops/ops.hpp"

namespace lmx::ops::nd {

struct NormParams {
    bool rms = false;          // x / rms(x) · scale, no mean subtracted, no bias
    int64_t axis = -1;         // normalize over dims [axis, rank)
    float epsilon = 1e-5f;
    int n_outputs = 1;         // LayerNormalization: y[, mean[, inv_std]]; RMS: y[, inv_std]
};
// layer_norm(x, scale[, bias]) -> y, optional statistics (dims of x with the normalized dims set to 1).
OpPtr layer_norm_nd(const NormParams& p);

struct SkipNormParams {
    bool rms = false;
    float epsilon = 1e-5f;
    int n_outputs = 1;  // output, mean, inv_std_var, input_skip_bias_sum (as onnxruntime orders them)
};
// skip_layer_norm(x, skip, gamma[, beta][, bias]) over the last dim (rms: x, skip, gamma[, bias]).
OpPtr skip_layer_norm(const SkipNormParams& p);

}  // namespace lmx::ops::nd
