#!/usr/bin/env python3
"""Generates ONNX node tests for onnxruntime's com.microsoft contrib ops, with
onnxruntime itself (CPUExecutionProvider) as the independent reference.

Each test is a one-node model built with onnx.helper, random inputs from a fixed numpy
seed, and onnxruntime's outputs, in the layout of ONNX's backend node tests:
tests/onnx_conformance/contrib/<test>/model.onnx + test_data_set_0/{input,output}_N.pb,
which tests/onnx_conformance/onnx_node_tests runs (tolerance rtol 1e-3, atol 1e-7).

Regenerate (needs the onnx and onnxruntime packages, e.g. in a venv; the files depend
on the onnxruntime version, 1.22 when last written; the folder is rewritten whole):

    .venv/bin/python tools/gen_onnx_contrib_tests.py
    build/<dir>/tests/onnx_node_tests --write tests/onnx_conformance/contrib_passlist.txt \
        tests/onnx_conformance/contrib

Quantized matmuls sum in a different order than onnxruntime, so their tests reject seeds
whose outputs come near zero, where the absolute tolerance alone would decide.
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "onnx_conformance", "contrib")
MS = "com.microsoft"


def model_of(node, inputs, initializers, outputs):
    """inputs: [(name, array)], initializers: {name: array}, outputs: [(name, TensorProto type)]."""
    vi = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in inputs]
    vo = [helper.make_tensor_value_info(n, t, None) for n, t in outputs]
    inits = [numpy_helper.from_array(a, n) for n, a in initializers.items()]
    graph = helper.make_graph([node], "test", vi, vo, initializer=inits)
    # IR 10: the newest onnxruntime 1.22 loads.
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid(MS, 1)], ir_version=10)


def run_ort(model, inputs):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, dict(inputs))


def save(name, model, inputs, outputs):
    d = os.path.join(ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, arrays in (("input", [a for _, a in inputs]), ("output", outputs)):
        for i, a in enumerate(arrays):
            with open(os.path.join(d, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(np.asarray(a)).SerializeToString())


def case(name, build, seed=0, away_from_zero=False):
    """build(rng) -> (node, inputs, initializers, outputs); with away_from_zero, tries
    seeds until every float output is at least 1e-3 of the output's largest magnitude."""
    for attempt in range(200):
        rng = np.random.default_rng(seed + 1000 * attempt)
        node, inputs, inits, outs = build(rng)
        model = model_of(node, inputs, inits, outs)
        got = run_ort(model, inputs)
        if not away_from_zero or all(np.abs(g).min() >= 1e-3 * np.abs(g).max() for g in got):
            save(name, model, inputs, got)
            return
    raise RuntimeError(f"{name}: no seed gives outputs away from zero")


def f32(rng, *shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


# --- MatMulNBits ---------------------------------------------------------------------

def matmul_nbits(a_shape, n, bits, block_size, zp=None, bias=False, accuracy_level=None, g_idx=False, int_a=False):
    """zp: None, "u8" (packed) or "float"; int_a: A of integers with each block's largest
    magnitude 127, which onnxruntime's int8 path (accuracy_level 4) quantizes exactly."""
    k = a_shape[-1]

    def build(rng):
        blocks = (k + block_size - 1) // block_size
        blob = block_size * bits // 8
        b = rng.integers(0, 256, (n, blocks, blob), dtype=np.uint8)
        scales = f32(rng, n * blocks, lo=0.01, hi=0.1)
        if int_a:
            a = rng.integers(-127, 128, a_shape).astype(np.float32)
            a[..., ::block_size] = 127
        else:
            a = f32(rng, *a_shape)
        inits = {"B": b, "scales": scales}
        names = ["A", "B", "scales"]
        if zp == "u8":
            inits["zero_points"] = rng.integers(0, 256, (n, (blocks * bits + 7) // 8), dtype=np.uint8)
        elif zp == "float":
            inits["zero_points"] = rng.uniform(0, 2**bits - 1, n * blocks).astype(np.float32)
        names.append("zero_points" if zp else "")
        if g_idx:
            inits["g_idx"] = (np.arange(k) // block_size).astype(np.int32)
        names.append("g_idx" if g_idx else "")
        if bias:
            inits["bias"] = f32(rng, n)
        names.append("bias" if bias else "")
        while names[-1] == "":
            names.pop()
        attrs = dict(K=k, N=n, bits=bits, block_size=block_size)
        if accuracy_level is not None:
            attrs["accuracy_level"] = accuracy_level
        node = helper.make_node("MatMulNBits", names, ["Y"], domain=MS, **attrs)
        return node, [("A", a)], inits, [("Y", TensorProto.FLOAT)]
    return build


def gen_matmul_nbits():
    case("test_matmul_nbits_4bit", matmul_nbits((3, 64), 24, 4, 32), away_from_zero=True)
    case("test_matmul_nbits_4bit_3d_zp_bias", matmul_nbits((2, 2, 96), 20, 4, 32, zp="u8", bias=True), away_from_zero=True)
    case("test_matmul_nbits_4bit_k_padded", matmul_nbits((2, 40), 8, 4, 16, zp="u8"), away_from_zero=True)
    case("test_matmul_nbits_4bit_zp_float", matmul_nbits((2, 64), 8, 4, 16, zp="float"), away_from_zero=True)
    case("test_matmul_nbits_4bit_block128", matmul_nbits((1, 256), 16, 4, 128, accuracy_level=1), away_from_zero=True)
    # With g_idx, onnxruntime 1.22 ignores packed uint8 zero points (lmx rejects that mix).
    case("test_matmul_nbits_4bit_g_idx", matmul_nbits((2, 64), 8, 4, 32, g_idx=True), away_from_zero=True)
    case("test_matmul_nbits_4bit_g_idx_zp_float", matmul_nbits((2, 64), 8, 4, 32, zp="float", g_idx=True), away_from_zero=True)
    # onnxruntime 1.22 computes 8 bits only through its int8 path (accuracy_level 4).
    case("test_matmul_nbits_4bit_acc4", matmul_nbits((2, 64), 8, 4, 32, accuracy_level=4, int_a=True), away_from_zero=True)
    case("test_matmul_nbits_8bit_acc4", matmul_nbits((2, 64), 8, 8, 32, accuracy_level=4, int_a=True), away_from_zero=True)
    case("test_matmul_nbits_8bit_acc4_zp", matmul_nbits((3, 64), 8, 8, 16, zp="u8", bias=True, accuracy_level=4, int_a=True),
         away_from_zero=True)


# --- RMS norms (onnxruntime's SimplifiedLayerNormalization family) --------------------

def gen_norms():
    def simplified(rng):
        x, scale = f32(rng, 2, 3, 16), f32(rng, 16)
        node = helper.make_node("SimplifiedLayerNormalization", ["x", "scale"], ["y"], axis=-1, epsilon=1e-5)
        return node, [("x", x)], {"scale": scale}, [("y", TensorProto.FLOAT)]
    case("test_simplified_layer_norm", simplified)

    def skip_simplified(with_bias, n_out):
        def build(rng):
            x, skip, gamma = f32(rng, 2, 3, 16), f32(rng, 2, 3, 16), f32(rng, 16)
            inits, names = {"gamma": gamma}, ["x", "skip", "gamma"]
            if with_bias:
                inits["bias"] = f32(rng, 16)
                names.append("bias")
            outs = ["y", "mean", "inv_std_var", "sum"][:n_out]
            if n_out == 4:  # only the first and last: mean and inv_std_var are omitted
                outs = ["y", "", "", "sum"]
            node = helper.make_node("SkipSimplifiedLayerNormalization", names, outs, domain=MS, epsilon=1e-6)
            return node, [("x", x), ("skip", skip)], inits, [(o, TensorProto.FLOAT) for o in outs if o]
        return build
    case("test_skip_simplified_layer_norm", skip_simplified(False, 1))
    case("test_skip_simplified_layer_norm_bias_sum", skip_simplified(True, 4))


# --- GroupQueryAttention and RotaryEmbedding -----------------------------------------

def rope_caches(max_pos, rotary_dim):
    inv_freq = 1.0 / (10000.0 ** (np.arange(0, rotary_dim, 2) / rotary_dim))
    angles = np.outer(np.arange(max_pos), inv_freq)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def gqa(b, s, past, heads, kv_heads, d, seqlens=None, total=None, past_input=True, packed=False, rotary_dim=0,
        position_ids=None, bias_dims=None, **attrs):
    """past: P of past_key [b, kv_heads, P, d]; seqlens default to every sequence at P + s."""
    def build(rng):
        inputs, names = [], []
        if packed:
            inputs.append(("query", f32(rng, b, s, (heads + 2 * kv_heads) * d)))
            names += ["query", "", ""]
        else:
            inputs += [("query", f32(rng, b, s, heads * d)), ("key", f32(rng, b, s, kv_heads * d)), ("value", f32(rng, b, s, kv_heads * d))]
            names += ["query", "key", "value"]
        if past_input:
            inputs += [("past_key", f32(rng, b, kv_heads, past, d)), ("past_value", f32(rng, b, kv_heads, past, d))]
            names += ["past_key", "past_value"]
        else:
            names += ["", ""]
        lens = np.array(seqlens if seqlens is not None else [past + s - 1] * b, dtype=np.int32)
        inputs += [("seqlens_k", lens), ("total_sequence_length", np.array(total if total is not None else past + s, dtype=np.int32))]
        names += ["seqlens_k", "total_sequence_length"]
        inits = {}
        if rotary_dim:
            inits["cos_cache"], inits["sin_cache"] = rope_caches(32, rotary_dim)
            names += ["cos_cache", "sin_cache"]
            attrs["do_rotary"] = 1
        if position_ids is not None:
            names += [""] * (9 - len(names)) + ["position_ids"]
            inputs.append(("position_ids", np.array(position_ids, dtype=np.int64)))
        if bias_dims is not None:
            names += [""] * (10 - len(names)) + ["attention_bias"]
            inputs.append(("attention_bias", f32(rng, *bias_dims)))
        node = helper.make_node("GroupQueryAttention", names, ["output", "present_key", "present_value"], domain=MS,
                                num_heads=heads, kv_num_heads=kv_heads, **attrs)
        return node, inputs, inits, [(n, TensorProto.FLOAT) for n in ("output", "present_key", "present_value")]
    return build


def gen_gqa():
    case("test_gqa_prompt", gqa(2, 4, 0, 4, 2, 8))
    case("test_gqa_prompt_no_past", gqa(1, 3, 0, 2, 2, 16, past_input=False))
    case("test_gqa_decode", gqa(2, 1, 5, 4, 2, 8))
    # The second sequence is shorter: its past ends earlier, its cache tail stays empty.
    case("test_gqa_decode_ragged", gqa(2, 1, 5, 4, 1, 8, seqlens=[5, 3], total=6))
    # past_key as a fixed-size buffer (longer than the sequence): present keeps its length.
    case("test_gqa_decode_buffer", gqa(1, 1, 8, 2, 1, 8, seqlens=[4], total=5))
    case("test_gqa_continue_prompt", gqa(1, 3, 4, 4, 2, 8))
    case("test_gqa_packed_qkv", gqa(2, 3, 0, 4, 2, 8, packed=True))
    case("test_gqa_rotary_prompt", gqa(1, 4, 0, 2, 1, 16, rotary_dim=16))
    case("test_gqa_rotary_decode_interleaved", gqa(2, 1, 3, 2, 1, 16, rotary_dim=16, rotary_interleaved=1))
    case("test_gqa_rotary_partial", gqa(1, 3, 2, 2, 1, 32, rotary_dim=16))
    case("test_gqa_rotary_position_ids", gqa(1, 1, 3, 2, 1, 16, rotary_dim=16, position_ids=[[7]]))
    # The first prompt uses only position_ids[0, 0], for every sequence.
    case("test_gqa_rotary_position_ids_prompt", gqa(2, 3, 0, 2, 1, 16, rotary_dim=16, position_ids=[[5, 0, 9], [1, 2, 3]]))
    case("test_gqa_local_window", gqa(1, 6, 0, 2, 1, 8, local_window_size=2))
    case("test_gqa_local_window_decode", gqa(1, 1, 6, 2, 1, 8, local_window_size=3))
    case("test_gqa_scale_softcap", gqa(1, 3, 2, 2, 1, 8, scale=0.5, softcap=2.0))
    case("test_gqa_smooth_softmax", gqa(1, 3, 2, 2, 1, 8, smooth_softmax=1))
    case("test_gqa_attention_bias_decode", gqa(2, 1, 4, 2, 1, 8, bias_dims=(2, 1, 1, 5)))
    case("test_gqa_attention_bias_prompt", gqa(1, 3, 0, 2, 1, 8, bias_dims=(1, 2, 3, 3)))


def rotary(x_shape, pos_shape, max_pos=16, rotary_dim=0, **attrs):
    def build(rng):
        x = f32(rng, *x_shape)
        if pos_shape == (1,):
            pos = np.array([3], dtype=np.int64)
        else:
            pos = rng.integers(0, max_pos, pos_shape).astype(np.int64)
        dim = rotary_dim or (x_shape[-1] if len(x_shape) == 4 else x_shape[-1] // attrs.get("num_heads", 1))
        cos, sin = rope_caches(max_pos, dim)
        if rotary_dim:
            attrs["rotary_embedding_dim"] = rotary_dim
        node = helper.make_node("RotaryEmbedding", ["x", "position_ids", "cos_cache", "sin_cache"], ["y"], domain=MS, **attrs)
        return node, [("x", x), ("position_ids", pos)], {"cos_cache": cos, "sin_cache": sin}, [("y", TensorProto.FLOAT)]
    return build


def gen_rotary():
    case("test_rotary_ms_3d", rotary((2, 3, 32), (2, 3), num_heads=4))
    case("test_rotary_ms_3d_interleaved_offset", rotary((1, 4, 16), (1,), num_heads=2, interleaved=1))
    case("test_rotary_ms_4d", rotary((2, 2, 3, 8), (2, 3)))
    case("test_rotary_ms_partial", rotary((1, 3, 32), (1, 3), rotary_dim=8, num_heads=2))
    case("test_rotary_ms_partial_interleaved", rotary((1, 2, 2, 16), (1, 2), rotary_dim=8, num_heads=2, interleaved=1))


# --- GatherBlockQuantized ------------------------------------------------------------

def gather_block_quantized(data_shape, indices, block_size, index_type=np.int64, **attrs):
    """onnxruntime 1.22 takes uint8 data as packed 4 bits, gather_axis 0, no zero points."""
    def build(rng):
        data = rng.integers(0, 256, data_shape, dtype=np.uint8)
        scale_shape = list(data_shape)
        scale_shape[-1] = (2 * data_shape[-1] + block_size - 1) // block_size
        scales = f32(rng, *scale_shape, lo=0.5, hi=2.0)
        node = helper.make_node("GatherBlockQuantized", ["data", "indices", "scales"], ["y"], domain=MS, block_size=block_size, **attrs)
        inputs = [("indices", np.array(indices, dtype=index_type))]
        return node, inputs, {"data": data, "scales": scales}, [("y", TensorProto.FLOAT)]
    return build


def gen_gather_block_quantized():
    case("test_gather_block_quantized", gather_block_quantized((6, 16), [[1, 5, 0]], 16))
    case("test_gather_block_quantized_int32_negative", gather_block_quantized((5, 32), [-1, 2], 32, np.int32))
    case("test_gather_block_quantized_3d", gather_block_quantized((4, 3, 16), [[3], [1]], 16, quantize_axis=2))


# --- GELU variants ---------------------------------------------------------------------

def gelu(op, with_bias, **attrs):
    def build(rng):
        x = f32(rng, 3, 4, 8, lo=-4, hi=4)
        names, inits = ["x"], {}
        if with_bias:
            inits["bias"] = f32(rng, 8)
            names.append("bias")
        node = helper.make_node(op, names, ["y"], domain=MS, **attrs)
        return node, [("x", x)], inits, [("y", TensorProto.FLOAT)]
    return build


def gen_gelus():
    case("test_fast_gelu", gelu("FastGelu", False))
    case("test_fast_gelu_bias", gelu("FastGelu", True))
    case("test_bias_gelu", gelu("BiasGelu", True))
    case("test_quick_gelu", gelu("QuickGelu", False))
    case("test_quick_gelu_alpha", gelu("QuickGelu", False, alpha=1.2))
    case("test_gelu_ms", gelu("Gelu", False))


# --- float16 --------------------------------------------------------------------------

def as_half(build):
    """The same test with every float input, initializer and output in float16."""
    def half_build(rng):
        node, inputs, inits, outs = build(rng)
        half = lambda a: a.astype(np.float16) if a.dtype == np.float32 else a  # noqa: E731
        return (node, [(n, half(a)) for n, a in inputs], {n: half(a) for n, a in inits.items()},
                [(n, TensorProto.FLOAT16) for n, _ in outs])
    return half_build


def gen_float16():
    case("test_matmul_nbits_4bit_f16", as_half(matmul_nbits((2, 64), 8, 4, 32)), away_from_zero=True)
    case("test_gqa_decode_f16", as_half(gqa(2, 1, 5, 4, 2, 8)))
    case("test_gqa_rotary_prompt_f16", as_half(gqa(1, 3, 0, 2, 1, 16, rotary_dim=16)))
    case("test_rotary_ms_3d_f16", as_half(rotary((2, 3, 32), (2, 3), num_heads=4)))
    case("test_gather_block_quantized_f16", as_half(gather_block_quantized((6, 16), [[1, 5, 0]], 16)))


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    gen_matmul_nbits()
    gen_gqa()
    gen_rotary()
    gen_gather_block_quantized()
    gen_gelus()
    gen_float16()
    gen_norms()
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {len(os.listdir(ROOT))} tests, {total} bytes, to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
