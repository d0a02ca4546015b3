#pragma once
// The operators the model builders compose. Each factory returns an immutable op;
// shapes are row-major with the contiguous dim last (see graph/ir.hpp).
#include <memory>
#include <optional>
#include <vector>

#include "graph/ir.hpp"

namespace lmx::kernels {
class PackedWeights;
}

namespace lmx::ops {

using OpPtr = std::shared_ptr<const graph::Op>;

// embed(table [V, D] any dtype, ids i32 [T]) -> f32 [T, D]: one dequantized row per id.
OpPtr embed();
// matmul(x f32 [R, K], w [N, K] any supported dtype[, bias f32 [N]]) -> f32 [R, N] = x · wᵀ (+ bias).
// x may also arrive already in the weight type's activation format (rms_norm_quantize).
OpPtr matmul();
// The same for one weight w whose repacked copy (kernels/packed_weights.hpp) the op keeps:
// used where the kernel table has that layout's GEMM, outside deterministic mode; w otherwise.
OpPtr matmul(std::shared_ptr<const kernels::PackedWeights> packed);
// matmul_group(x, w₁[, b₁], w₂[, b₂], …) -> y₁, y₂, …: the matmuls of several repacked
// weights sharing x and one activation type, in one pass; yᵢ bit-identical to matmul(packedᵢ).
OpPtr matmul_group(std::vector<std::shared_ptr<const kernels::PackedWeights>> packed, std::vector<bool> has_bias);
// rms_norm(x f32 [R, D], weight f32 [D]) -> x / sqrt(mean(x²) + eps) * weight.
OpPtr rms_norm(float eps);
// head_rms_norm(x f32 [R, n_heads * D], weight f32 [D]): rms_norm of each head on its
// own, sharing one weight (gemma3's QK-norm).
OpPtr head_rms_norm(float eps, int n_heads);
// rms_norm_quantize(x, weight) -> rms_norm's rows quantized to act (a block type such as
// Q8_K): what the matmuls reading them take without quantizing again (ops/passes.hpp).
OpPtr rms_norm_quantize(float eps, DType act);
// add(a, b) -> a + b, same dims.
OpPtr add();
// swiglu(gate, up) -> silu(gate) * up, same dims.
OpPtr swiglu();
// geglu(gate, up) -> gelu(gate) * up, same dims; gelu is the tanh approximation as
// ggml's CPU backend computes it (see gelu_ggml).
OpPtr geglu();
// scale(x f32) -> x * s.
OpPtr scale(float s);
// gather_rows(x f32 [T, D], rows i32 [O]) -> f32 [O, D]: the rows whose outputs were requested.
OpPtr gather_rows();

enum class RopeLayout { adjacent_pairs, neox_halves };  // ggml's NORM and NEOX modes
struct RopeParams {
    int n_heads = 0;
    int head_dim = 0;
    int n_rot = 0;  // leading dims of each head that rotate
    float freq_base = 10000.0f;
    RopeLayout layout = RopeLayout::adjacent_pairs;
};
// rope(x f32 [T, n_heads * head_dim], positions i32 [T]) -> rotated copy.
OpPtr rope(const RopeParams& p);

struct AttentionParams {
    int layer = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int head_dim = 0;
    float scale = 0;  // applied to q·k
    int window = 0;   // > 0: sliding window, a token attends only to the last `window` positions
};
// attention(q [T, H*D], k [T, Hkv*D], v [T, Hkv*D], positions i32 [T], seq_ids i32 [T]) -> [T, H*D].
// Writes k and v into the context's KV cache at (seq, position), then lets every token
// attend causally to its own sequence's cached positions 0..position (with a window:
// position-window+1..position, as llama.cpp's standard sliding-window mask).
OpPtr attention(const AttentionParams& p);

// GELU, tanh approximation, as ggml's CPU backend computes it: the input rounded to
// fp16 and the result rounded to fp16 (ggml reads a table of fp16 results indexed by
// the fp16 input), with the tails cut at |x| >= 10.
float gelu_ggml(float x, bool deterministic = false);  // deterministic: det_tanh, not libm's

// --- Encoders (BERT family): tokens of several sequences back to back, no padding;
// seq_starts i32 [S] holds each sequence's first token (see sequence_ranges.hpp).

// layer_norm(x f32 [R, D], weight f32 [D], bias f32 [D]) -> (x - mean) / sqrt(var + eps) * weight + bias.
OpPtr layer_norm(float eps);
// gelu(x f32) -> x * Φ(x), the exact (erf) GELU BERT uses.
OpPtr gelu();

// dense(x f32 [..., K], w f32 [ceil(N / 16), K, 16] (kernels::pack_f32_panels)[, bias f32 [N]])
// -> f32 [..., N] = x · w (+ bias), then the exact GELU when `gelu`: one pass of the
// blocked GEMM over weights packed at load. Given w's bf16 panels too
// (kernels::pack_bf16_panels), it multiplies in bf16 where the kernel table has native
// bf16 products (not in deterministic mode).
OpPtr dense(int64_t n, bool gelu, std::shared_ptr<const std::vector<uint32_t>> bf16 = nullptr);

struct EncoderAttentionParams {
    int n_heads = 0;
    int head_dim = 0;
    float scale = 0;  // applied to q·k
};
// encoder_attention(q, k, v f32 [T, H*D], seq_starts i32 [S]) -> [T, H*D]: each token
// attends to all tokens of its own sequence (bidirectional; other sequences masked).
OpPtr encoder_attention(const EncoderAttentionParams& p);

enum class Pooling { mean, cls, last };
std::string_view pooling_name(Pooling p);
// pool(x f32 [T, D], seq_starts i32 [S]) -> f32 [S, D]: per sequence, the mean of its
// tokens, its first token or its last token.
OpPtr pool(Pooling mode);
// l2_normalize(x f32 [R, D]) -> each row / max(‖row‖, 1e-12).
OpPtr l2_normalize();

// --- What the graph passes (ops/passes.hpp) ask of an op.

// The repacked weight of an op made by matmul(packed), else nullptr.
std::shared_ptr<const kernels::PackedWeights> packed_weight(const graph::Op& op);
// The block type node's matmul or matmul_group quantizes its x (input 0) to, or nullopt
// for other ops and for weights that multiply f32 or f16 activations.
std::optional<DType> quantized_input_type(const graph::Graph& g, const graph::Node& node);
// The eps of an op made by rms_norm (one group per row), else nullopt.
std::optional<float> row_rms_norm_eps(const graph::Op& op);

}  // namespace lmx::ops
