#!/usr/bin/env python3
"""Goldens for `lmx quantize` (src/models/onnx/quantize.cpp) from onnxruntime's own quantizer.

Builds small float models with onnx.helper, quantizes each with onnxruntime's
MatMulNBitsQuantizer (DefaultWeightOnlyQuantConfig: round to nearest, QOperator format)
for block sizes 16/32/64/128, symmetric and asymmetric, accuracy_level unset/0/4, and
writes tests/goldens/onnx-quantize/<case>/:
  model.onnx          the float model
  expected_q4.onnx    onnxruntime's quantized model
  input_N.pb          inputs (TensorProto)
  output_0.pb         onnxruntime's output running expected_q4.onnx at accuracy_level 0
  output_acc4_0.pb    (accuracy_level 4 cases) its output at accuracy_level 4, A in int8
and cases.json (the settings of each case). tests/models/test_onnx_quantize.cpp checks
that lmx's quantizer writes the same initializers and nodes, and that lmx runs the result
like onnxruntime does.

Usage: .venv/bin/python tools/gen_onnx_quantize_goldens.py   (onnx, onnxruntime 1.22)
"""
import json
import logging
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "goldens", "onnx-quantize")
logging.getLogger().setLevel(logging.WARNING)  # the quantizer logs every node at INFO


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def ties(rows, cols, scale=0.25):
    """Values whose quantized form lands exactly on .5: min -8s and max 7s give the scale s
    (exact for a power of two), and odd multiples of s/2 fall between two steps."""
    v = (np.arange(rows * cols).reshape(rows, cols) % 31 - 15).astype(np.float32) * (scale / 2)
    v.flat[0], v.flat[-1] = -8 * scale, 7 * scale
    return v


def model(nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="gen_onnx_quantize_goldens")
    m.ir_version = 10  # onnxruntime 1.22 reads up to 11
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def mlp(rng):
    """Two MatMuls, K 64 then 24 (not a multiple of any block size)."""
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    m = model(nodes, [vi("x", [2, 3, 64])], [vi("y", [2, 3, 8])], {"w1": f32(rng, 64, 24), "w2": f32(rng, 24, 8)})
    return m, {"x": f32(rng, 2, 3, 64)}


def odd_shapes(rng):
    """Odd K (37: a stale last nibble; 33 = 2*16+1), several blocks (200), exact ties, a zero
    column, a constant column, an unnamed node."""
    w1 = f32(rng, 37, 6)
    w1[:, 2] = 0
    w1[:, 3] = 0.75
    w1[:32, 4] = ties(32, 1)[:, 0]
    w2 = np.concatenate([f32(rng, 200, 3), ties(200, 2)], axis=1)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"], name="m1"),
             helper.make_node("MatMul", ["x2", "w2"], ["b"]),
             helper.make_node("MatMul", ["x3", "w3"], ["c"], name="m3")]
    m = model(nodes, [vi("x", [4, 37]), vi("x2", [2, 200]), vi("x3", [1, 33])], [vi("a", [4, 6]), vi("b", [2, 5]), vi("c", [1, 3])],
              {"w1": w1, "w2": w2, "w3": f32(rng, 33, 3)})
    return m, {"x": f32(rng, 4, 37), "x2": f32(rng, 2, 200), "x3": f32(rng, 1, 33)}


def shared(rng):
    """A weight used by two MatMuls (onnxruntime adds its quantized copy twice; the later
    one stays), a weight also listed as a graph input, an unused initializer (dropped), a
    MatMul of two activations (left alone) and a 3-D weight (left alone)."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["a"], name="first"),
             helper.make_node("MatMul", ["x", "v"], ["b"], name="other"),
             helper.make_node("MatMul", ["b", "w"], ["c"], name="second"),
             helper.make_node("Transpose", ["c"], ["ct"], name="t"),
             helper.make_node("MatMul", ["a", "ct"], ["d"], name="act"),
             helper.make_node("MatMul", ["x3", "w3d"], ["e"], name="batched")]
    inits = {"w": f32(rng, 32, 32), "unused": f32(rng, 4), "v": f32(rng, 32, 32), "w3d": f32(rng, 2, 32, 8)}
    m = model(nodes, [vi("x", [3, 32]), vi("x3", [2, 3, 32]), vi("v", [32, 32])], [vi("d", [3, 3]), vi("e", [2, 3, 8])], inits)
    return m, {"x": f32(rng, 3, 32), "x3": f32(rng, 2, 3, 32)}


def embedding(rng):
    """Gather from an embedding table (quantized with --embeddings) feeding a MatMul; row 3 of
    the table is zeros (a padding token), row 5 exact ties."""
    table = f32(rng, 20, 64)
    table[3] = 0
    table[5] = ties(1, 64)[0]
    nodes = [helper.make_node("Gather", ["embed", "ids"], ["h"], name="embed_tokens"),
             helper.make_node("MatMul", ["h", "w"], ["y"], name="proj")]
    m = model(nodes, [vi("ids", [2, 4], TensorProto.INT64)], [vi("y", [2, 4, 24])], {"embed": table, "w": f32(rng, 64, 24)})
    return m, {"ids": np.array([[0, 3, 5, 19], [7, 7, 1, 12]], dtype=np.int64)}


def branch(rng):
    """MatMuls inside If branches: one reads a weight of the outer graph (its quantized
    form goes there), one a weight of its own branch; onnxruntime rebuilds the If node
    (attributes sorted, doc string dropped) and drops an unused outer initializer."""
    then_g = helper.make_graph([helper.make_node("MatMul", ["x", "w_outer"], ["t"], name="then_mm", doc_string="doc")], "then", [],
                               [vi("t", [2, 8])])
    else_g = helper.make_graph([helper.make_node("MatMul", ["x", "w_inner"], ["e"], name="else_mm")], "else", [], [vi("e", [2, 8])],
                               [numpy_helper.from_array(f32(rng, 40, 8), "w_inner")])
    nodes = [helper.make_node("If", ["c"], ["y"], name="if", then_branch=then_g, else_branch=else_g, doc_string="doc")]
    m = model(nodes, [vi("c", [], TensorProto.BOOL), vi("x", [2, 40])], [vi("y", [2, 8])], {"w_outer": f32(rng, 40, 8), "junk": f32(rng, 3)})
    return m, {"c": np.array(True), "x": f32(rng, 2, 40)}


# (model, embeddings): every model runs with each block size, symmetric and asymmetric;
# accuracy_level cycles through unset, 0 and 4.
MODELS = [("mlp", mlp, False), ("odd", odd_shapes, False), ("shared", shared, False), ("embed", embedding, True),
          ("branch", branch, False)]
LEVELS = [None, 0, 4]


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    cases = []
    n = 0
    for name, build, embeddings in MODELS:
        rng = np.random.default_rng(len(cases) + 7)
        m, inputs = build(rng)
        onnx.checker.check_model(m)
        for block in (16, 32, 64, 128):
            for symmetric in (False, True):
                level = LEVELS[n % len(LEVELS)]
                n += 1
                case = f"{name}_b{block}_{'sym' if symmetric else 'asym'}" + ("" if level is None else f"_acc{level}")
                d = os.path.join(ROOT, case)
                os.makedirs(d)
                onnx.save(m, os.path.join(d, "model.onnx"))
                config = DefaultWeightOnlyQuantConfig(
                    block_size=block, is_symmetric=symmetric, accuracy_level=level,
                    op_types_to_quantize=("MatMul", "Gather") if embeddings else ("MatMul",))
                q = MatMulNBitsQuantizer(onnx.ModelProto.FromString(m.SerializeToString()), algo_config=config)
                q.process()
                expected = q.model.model
                onnx.save(expected, os.path.join(d, "expected_q4.onnx"))
                # output_N: the expected model run at onnxruntime's fp32 level; at level 4
                # onnxruntime quantizes A to int8 (about 1% off fp32), as lmx does for
                # blocks of 32 and more: output_acc4_N is that run.
                if level == 4:
                    sess = ort.InferenceSession(expected.SerializeToString(), providers=["CPUExecutionProvider"])
                    for i, v in enumerate(sess.run(None, inputs)):
                        with open(os.path.join(d, f"output_acc4_{i}.pb"), "wb") as f:
                            f.write(numpy_helper.from_array(v, sess.get_outputs()[i].name).SerializeToString())
                run = onnx.ModelProto.FromString(expected.SerializeToString())
                for node in run.graph.node:
                    for a in node.attribute:
                        if a.name == "accuracy_level":
                            a.i = 0
                sess = ort.InferenceSession(run.SerializeToString(), providers=["CPUExecutionProvider"])
                outputs = sess.run(None, inputs)
                names = []
                for i, (k, v) in enumerate(inputs.items()):
                    with open(os.path.join(d, f"input_{i}.pb"), "wb") as f:
                        f.write(numpy_helper.from_array(v, k).SerializeToString())
                    names.append(k)
                for i, v in enumerate(outputs):
                    with open(os.path.join(d, f"output_{i}.pb"), "wb") as f:
                        f.write(numpy_helper.from_array(v, sess.get_outputs()[i].name).SerializeToString())
                cases.append({"case": case, "block": block, "symmetric": symmetric, "accuracy_level": level,
                              "embeddings": embeddings, "inputs": names, "outputs": len(outputs)})
    with open(os.path.join(ROOT, "cases.json"), "w") as f:
        json.dump({"onnxruntime": ort.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases in {ROOT}")


if __name__ == "__main__":
    main()
