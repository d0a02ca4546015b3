#!/usr/bin/env python3
"""ONNX reader goldens from an independent reference: the `onnx` Python package.

Builds small ONNX models with onnx.helper that together cover what lmx's reader must
handle (typed vs raw initializers for every dtype, packed and unpacked encodings,
external data, nested If/Loop bodies, every attribute type, symbolic dims, metadata,
com.microsoft ops), saves them under tests/data/onnx/, checks each with
onnx.checker (and loads it in ONNX Runtime where it only uses standard ops), and
writes tests/data/onnx/goldens.json: what onnx itself reads back from each file
(node ops and attributes, initializer dtypes/dims/storage and the SHA-256 of their
values as little-endian bytes, input/output types). tests/formats/test_onnx_goldens.cpp
compares lmx's reader against it.

    .venv/bin/python tools/gen_onnx_goldens.py                 # regenerate the goldens
    .venv/bin/python tools/gen_onnx_goldens.py --check-written DIR
        # onnx.checker + ONNX Runtime on the models lmx's writer produced
        # (LMX_ONNX_WRITE_DIR=DIR build/release/tests/test_formats --gtest_filter='OnnxRoundTrip.*')
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "onnx")
T = TensorProto
rng = np.random.default_rng(1234)


# --- model builders ---------------------------------------------------------------

def f32(shape):
    return rng.standard_normal(shape).astype(np.float32)


def typed(name, dtype, dims, vals):
    return helper.make_tensor(name, dtype, dims, vals, raw=False)


def raw(name, dtype, dims, arr):
    return helper.make_tensor(name, dtype, dims, arr, raw=True)


def all_dtype_initializers():
    """Every dtype lmx reads, once in its typed field and once in raw_data."""
    out = []
    f = f32((2, 3))
    f16 = f.astype(np.float16)
    bf16_bits = (f.view(np.uint32) >> 16).astype(np.uint16)  # truncated bf16 bit patterns
    i8 = np.array([-128, -1, 0, 1, 127, 5], dtype=np.int8)
    u8 = np.array([0, 1, 2, 128, 254, 255], dtype=np.uint8)
    i16 = np.array([-32768, -2, 0, 3, 32767, 7], dtype=np.int16)
    u16 = np.array([0, 1, 65535, 300, 2, 9], dtype=np.uint16)
    i32 = np.array([-(2**31), -1, 0, 1, 2**31 - 1, 42], dtype=np.int32)
    i64 = np.array([-(2**63), -1, 0, 1, 2**63 - 1, 1 << 40], dtype=np.int64)
    u32 = np.array([0, 1, 2**32 - 1, 7, 8, 9], dtype=np.uint32)
    u64 = np.array([0, 1, 2**64 - 1, 7, 8, 1 << 63], dtype=np.uint64)
    f64 = rng.standard_normal(6)
    b = np.array([True, False, True, True, False, False])
    i4 = np.array([-8, -1, 0, 1, 7, 3, -5], dtype=np.int8)       # odd count: last byte half filled
    u4 = np.array([0, 1, 15, 8, 9], dtype=np.uint8)
    for prefix, make in (("typed", typed), ("raw", raw)):
        out += [
            make(f"{prefix}_float", T.FLOAT, [2, 3], f if prefix == "raw" else f.flatten().tolist()),
            make(f"{prefix}_float16", T.FLOAT16, [2, 3], f16 if prefix == "raw" else f16.flatten()),
            make(f"{prefix}_double", T.DOUBLE, [6], f64 if prefix == "raw" else f64.tolist()),
            make(f"{prefix}_int8", T.INT8, [6], i8 if prefix == "raw" else i8.tolist()),
            make(f"{prefix}_uint8", T.UINT8, [6], u8 if prefix == "raw" else u8.tolist()),
            make(f"{prefix}_int16", T.INT16, [3, 2], i16 if prefix == "raw" else i16.tolist()),
            make(f"{prefix}_uint16", T.UINT16, [6], u16 if prefix == "raw" else u16.tolist()),
            make(f"{prefix}_int32", T.INT32, [6], i32 if prefix == "raw" else i32.tolist()),
            make(f"{prefix}_int64", T.INT64, [6], i64 if prefix == "raw" else i64.tolist()),
            make(f"{prefix}_uint32", T.UINT32, [6], u32 if prefix == "raw" else u32.tolist()),
            make(f"{prefix}_uint64", T.UINT64, [6], u64 if prefix == "raw" else u64.tolist()),
            make(f"{prefix}_bool", T.BOOL, [6], b if prefix == "raw" else b.tolist()),
            make(f"{prefix}_int4", T.INT4, [7], i4 if prefix == "raw" else i4.tolist()),
            make(f"{prefix}_uint4", T.UINT4, [5], u4 if prefix == "raw" else u4.tolist()),
        ]
        # bf16: onnx.helper takes float values for the typed field and rounds; give it
        # exact bf16 values so both forms hold the same bits.
        bf_vals = (bf16_bits.astype(np.uint32) << 16).view(np.float32)
        if prefix == "raw":
            out.append(raw("raw_bfloat16", T.BFLOAT16, [2, 3], bf16_bits.tobytes()))
        else:
            out.append(typed("typed_bfloat16", T.BFLOAT16, [2, 3], bf_vals.flatten().tolist()))
    out.append(typed("typed_string", T.STRING, [3], [b"a", b"", "\u00e9t\u00e9".encode()]))
    out.append(raw("raw_scalar", T.FLOAT, [], np.array(3.5, dtype=np.float32)))
    out.append(raw("raw_empty", T.FLOAT, [0, 4], np.zeros((0, 4), dtype=np.float32)))
    return out


def model_dtypes():
    inits = all_dtype_initializers()
    x = helper.make_tensor_value_info("x", T.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", T.FLOAT, ["batch", 3])
    w = helper.make_tensor_value_info("w", T.FLOAT16, [2, 3])
    nodes = [
        helper.make_node("Add", ["x", "raw_float"], ["a"], name="add_raw"),
        helper.make_node("Add", ["a", "typed_float"], ["y"], name="add_typed"),
        helper.make_node("Cast", ["raw_float16"], ["w"], to=T.FLOAT16, name="cast"),
        helper.make_node("Constant", [], ["c"], value=raw("c_value", T.INT64, [3], np.array([1, -2, 3], dtype=np.int64))),
    ]
    g = helper.make_graph(nodes, "dtypes", [x], [y, w], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)], producer_name="lmx-goldens",
                          producer_version="1")
    m.ir_version = 10
    return m


def model_external():
    inits = [
        numpy_helper.from_array(f32((4, 8)), "ext_w"),
        numpy_helper.from_array(f32((16,)).astype(np.float16), "ext_b"),
        numpy_helper.from_array(np.arange(16, dtype=np.int64), "ext_i64"),
        numpy_helper.from_array(np.array([1.0, 2.0], dtype=np.float32), "small_inline"),
    ]
    x = helper.make_tensor_value_info("x", T.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", T.FLOAT, ["batch", 8])
    nodes = [helper.make_node("MatMul", ["x", "ext_w"], ["y"])]
    g = helper.make_graph(nodes, "external", [x], [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="lmx-goldens")
    m.ir_version = 8
    return m


def model_subgraphs():
    """If with then/else bodies, a Loop whose body holds another If (graphs 2 deep)."""
    def branch(name, value):
        c = helper.make_node("Constant", [], [f"{name}_out"], value=numpy_helper.from_array(np.array([value], dtype=np.float32)))
        return helper.make_graph([c], name, [], [helper.make_tensor_value_info(f"{name}_out", T.FLOAT, [1])])

    if_node = helper.make_node("If", ["cond"], ["if_out"], then_branch=branch("then", 1.0), else_branch=branch("else", -1.0),
                               name="top_if")
    inner_if = helper.make_node("If", ["cond_in"], ["inner_out"], then_branch=branch("inner_then", 2.0),
                                else_branch=branch("inner_else", 3.0))
    add = helper.make_node("Add", ["acc_in", "inner_out"], ["acc_out"])
    ident = helper.make_node("Identity", ["cond_in"], ["cond_out"])
    body = helper.make_graph(
        [inner_if, add, ident], "loop_body",
        [helper.make_tensor_value_info("iter", T.INT64, []), helper.make_tensor_value_info("cond_in", T.BOOL, []),
         helper.make_tensor_value_info("acc_in", T.FLOAT, [1])],
        [helper.make_tensor_value_info("cond_out", T.BOOL, []), helper.make_tensor_value_info("acc_out", T.FLOAT, [1])])
    loop = helper.make_node("Loop", ["trip", "cond", "if_out"], ["loop_out"], body=body, name="top_loop")
    g = helper.make_graph(
        [if_node, loop], "subgraphs",
        [helper.make_tensor_value_info("cond", T.BOOL, []), helper.make_tensor_value_info("trip", T.INT64, [])],
        [helper.make_tensor_value_info("loop_out", T.FLOAT, [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="lmx-goldens")
    m.ir_version = 8
    return m


def model_decoder():
    """A decoder-with-past shaped graph with com.microsoft ops, symbolic dims and metadata."""
    V, H, KV, D = 32, 16, 2, 8
    inputs = [
        helper.make_tensor_value_info("input_ids", T.INT64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info("attention_mask", T.INT64, ["batch_size", "total_sequence_length"]),
        helper.make_tensor_value_info("past_key_values.0.key", T.FLOAT, ["batch_size", KV, "past_sequence_length", D]),
        helper.make_tensor_value_info("past_key_values.0.value", T.FLOAT, ["batch_size", KV, "past_sequence_length", D]),
    ]
    outputs = [
        helper.make_tensor_value_info("logits", T.FLOAT, ["batch_size", "sequence_length", V]),
        helper.make_tensor_value_info("present.0.key", T.FLOAT, ["batch_size", KV, "total_sequence_length", D]),
        helper.make_tensor_value_info("present.0.value", T.FLOAT, ["batch_size", KV, "total_sequence_length", D]),
    ]
    block = 16
    q4 = rng.integers(0, 256, size=(V, H // block, block // 2), dtype=np.uint8)
    inits = [
        numpy_helper.from_array(f32((V, H)), "embed.weight"),
        numpy_helper.from_array(np.ones(H, dtype=np.float32), "norm.weight"),
        numpy_helper.from_array(q4, "lm_head.qweight"),
        numpy_helper.from_array(f32((V, H // block)).astype(np.float16), "lm_head.scales"),
    ]
    nodes = [
        helper.make_node("Gather", ["embed.weight", "input_ids"], ["h0"], name="embed"),
        helper.make_node("SimplifiedLayerNormalization", ["h0", "norm.weight"], ["h1"], domain="com.microsoft",
                         axis=-1, epsilon=1e-5, name="norm"),
        helper.make_node("GroupQueryAttention", ["h1", "h1", "h1", "past_key_values.0.key", "past_key_values.0.value"],
                         ["attn", "present.0.key", "present.0.value"], domain="com.microsoft", num_heads=2,
                         kv_num_heads=KV, scale=0.125, name="attn"),
        helper.make_node("MatMulNBits", ["attn", "lm_head.qweight", "lm_head.scales", ""], ["logits"],
                         domain="com.microsoft", K=H, N=V, bits=4, block_size=block, accuracy_level=4, name="lm_head"),
    ]
    g = helper.make_graph(nodes, "decoder", inputs, outputs, initializer=inits, doc_string="a tiny decoder-with-past")
    g.value_info.append(helper.make_tensor_value_info("h1", T.FLOAT, ["batch_size", "sequence_length", H]))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)],
                          producer_name="onnxruntime-genai-like", producer_version="0.0.1",
                          doc_string="lmx golden", domain="ai.lmx", model_version=7)
    m.ir_version = 10
    helper.set_model_props(m, {"model_type": "llama", "generated_by": "tools/gen_onnx_goldens.py"})
    return m


def model_static_batch():
    """input_ids with a fixed batch of 1, and logits whose batch dim is not input_ids'."""
    inputs = [helper.make_tensor_value_info("input_ids", T.INT64, [1, 8])]
    outputs = [helper.make_tensor_value_info("logits", T.FLOAT, ["N", 8, 4])]
    inits = [numpy_helper.from_array(f32((16, 4)), "embed")]
    nodes = [helper.make_node("Gather", ["embed", "input_ids"], ["logits"])]
    g = helper.make_graph(nodes, "static", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="lmx-goldens")
    m.ir_version = 8
    return m


def model_attributes():
    """One custom-domain node with every attribute type, and non-tensor value types."""
    sub = helper.make_graph([helper.make_node("Identity", ["a"], ["b"])], "attr_graph",
                            [helper.make_tensor_value_info("a", T.FLOAT, [2])],
                            [helper.make_tensor_value_info("b", T.FLOAT, [2])])
    sub2 = helper.make_graph([helper.make_node("Neg", ["a"], ["b"])], "attr_graph2",
                             [helper.make_tensor_value_info("a", T.FLOAT, [None])],
                             [helper.make_tensor_value_info("b", T.FLOAT, [None])])
    tp = helper.make_tensor_type_proto(T.FLOAT16, ["n", 4])
    node = helper.make_node(
        "AllAttrs", ["x"], ["y"], domain="lmx.test", name="all",
        f=0.25, i=-7, s=b"bytes\x00ok", t=numpy_helper.from_array(np.array([[1, 2], [3, 4]], dtype=np.int32)),
        g=sub, floats=[1.5, -2.0, float("inf")], ints=[0, -1, 1 << 40], strings=[b"x", b"yy"],
        tensors=[numpy_helper.from_array(np.array([1.0], dtype=np.float32), "t0"),
                 typed("t1", T.INT64, [2], [5, 6])],
        graphs=[sub, sub2], tp=tp, type_protos=[tp, helper.make_sequence_type_proto(tp)])
    node.attribute.append(helper.make_attribute_ref("alpha_ref", onnx.AttributeProto.FLOAT))
    inputs = [
        helper.make_tensor_value_info("x", T.FLOAT, ["batch", None, 3]),
        helper.make_value_info("seq", helper.make_sequence_type_proto(helper.make_tensor_type_proto(T.FLOAT, None))),
        helper.make_value_info("opt", helper.make_optional_type_proto(helper.make_tensor_type_proto(T.INT32, [2]))),
        helper.make_value_info("map", helper.make_map_type_proto(T.INT64, helper.make_tensor_type_proto(T.FLOAT, []))),
    ]
    g = helper.make_graph([node], "attributes", inputs, [helper.make_tensor_value_info("y", T.FLOAT, [None])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("lmx.test", 1)],
                          producer_name="lmx-goldens")
    m.ir_version = 10
    return m


def model_functions():
    """A model-local function (FunctionProto) with an attribute default and an attribute reference."""
    const = helper.make_node("Constant", [], ["alpha_c"])
    const.attribute.append(helper.make_attribute_ref("value_float", onnx.AttributeProto.FLOAT, ref_attr_name="alpha"))
    body = [const, helper.make_node("Mul", ["b", "alpha_c"], ["scaled"]), helper.make_node("Add", ["a", "scaled"], ["c"])]
    fn = helper.make_function("lmx.fn", "ScaledAdd", ["a", "b"], ["c"], body, [helper.make_opsetid("", 21)],
                              attribute_protos=[helper.make_attribute("alpha", 2.0)], doc_string="a + alpha * b")
    node = helper.make_node("ScaledAdd", ["x", "y"], ["z"], domain="lmx.fn", alpha=0.5)
    g = helper.make_graph([node], "functions",
                          [helper.make_tensor_value_info("x", T.FLOAT, ["n"]), helper.make_tensor_value_info("y", T.FLOAT, ["n"])],
                          [helper.make_tensor_value_info("z", T.FLOAT, ["n"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("lmx.fn", 1)],
                          functions=[fn], producer_name="lmx-goldens")
    m.ir_version = 10
    return m


# --- what onnx reads back ---------------------------------------------------------

FIELD_DTYPE = {  # typed field -> numpy dtype the values are stored with in raw form
    T.FLOAT: ("float_data", "<f4"), T.COMPLEX64: ("float_data", "<f4"), T.DOUBLE: ("double_data", "<f8"),
    T.COMPLEX128: ("double_data", "<f8"), T.INT64: ("int64_data", "<i8"), T.UINT32: ("uint64_data", "<u4"),
    T.UINT64: ("uint64_data", "<u8"), T.INT32: ("int32_data", "<i4"), T.INT16: ("int32_data", "<i2"),
    T.UINT16: ("int32_data", "<u2"), T.FLOAT16: ("int32_data", "<u2"), T.BFLOAT16: ("int32_data", "<u2"),
    T.INT8: ("int32_data", "i1"), T.UINT8: ("int32_data", "u1"), T.BOOL: ("int32_data", "u1"),
    T.INT4: ("int32_data", "u1"), T.UINT4: ("int32_data", "u1"),
}


def tensor_bytes(t, base_dir):
    """The tensor's values as little-endian bytes, packed as raw_data stores them."""
    if t.data_location == T.EXTERNAL:
        kv = {e.key: e.value for e in t.external_data}
        with open(os.path.join(base_dir, kv["location"]), "rb") as f:
            f.seek(int(kv.get("offset", 0)))
            return f.read(int(kv["length"])), "external"
    if t.HasField("raw_data"):
        return t.raw_data, "raw"
    field, dt = FIELD_DTYPE[t.data_type]
    src = {"float_data": np.float32, "double_data": np.float64, "uint64_data": np.uint64}.get(field, np.int64)
    vals = np.array(list(getattr(t, field)), dtype=src)
    if t.data_type in (T.FLOAT16, T.BFLOAT16, T.INT4, T.UINT4):
        vals = vals & (0xFFFF if dt == "<u2" else 0xFF)
    return vals.astype(dt).tobytes(), "typed"


def tensor_json(t, base_dir):
    j = {"name": t.name, "dtype": t.data_type, "dims": list(t.dims)}
    if t.data_type == T.STRING:
        j["storage"] = "typed"
        j["strings"] = [s.hex() for s in t.string_data]
        return j
    data, storage = tensor_bytes(t, base_dir)
    j["storage"] = storage
    j["nbytes"] = len(data)
    j["sha256"] = hashlib.sha256(data).hexdigest()
    # Sanity: onnx's own numpy conversion agrees for the byte-addressable types.
    if t.data_type not in (T.INT4, T.UINT4, T.BFLOAT16):
        arr = numpy_helper.to_array(t, base_dir=base_dir)
        if t.data_type == T.FLOAT16:
            arr = arr.view(np.uint16)
        assert arr.astype(arr.dtype.newbyteorder("<")).tobytes() == data, t.name
    return j


def dim_json(d):
    if d.HasField("dim_value"):
        return d.dim_value
    if d.HasField("dim_param"):
        return d.dim_param
    return None


def type_json(tp):
    k = tp.WhichOneof("value")
    if k in ("tensor_type", "sparse_tensor_type"):
        tt = getattr(tp, k)
        return {"kind": "tensor" if k == "tensor_type" else "sparse_tensor", "elem_type": tt.elem_type,
                "shape": [dim_json(d) for d in tt.shape.dim] if tt.HasField("shape") else None}
    if k == "sequence_type":
        return {"kind": "sequence", "elem": type_json(tp.sequence_type.elem_type)}
    if k == "optional_type":
        return {"kind": "optional", "elem": type_json(tp.optional_type.elem_type)}
    if k == "map_type":
        return {"kind": "map", "key_type": tp.map_type.key_type, "elem": type_json(tp.map_type.value_type)}
    return {"kind": "none"}


def value_json(v):
    return {"name": v.name, "type": type_json(v.type)}


def attr_json(a, base_dir):
    A = onnx.AttributeProto
    j = {"name": a.name, "type": a.type}
    if a.ref_attr_name:
        j["ref_attr_name"] = a.ref_attr_name
        return j
    if a.type == A.FLOAT:
        j["f"] = a.f
    elif a.type == A.INT:
        j["i"] = a.i
    elif a.type == A.STRING:
        j["s"] = a.s.hex()
    elif a.type == A.TENSOR:
        j["tensors"] = [tensor_json(a.t, base_dir)]
    elif a.type == A.GRAPH:
        j["graphs"] = [graph_json(a.g, base_dir)]
    elif a.type == A.FLOATS:
        j["floats"] = [x if np.isfinite(x) else str(x) for x in a.floats]
    elif a.type == A.INTS:
        j["ints"] = list(a.ints)
    elif a.type == A.STRINGS:
        j["strings"] = [s.hex() for s in a.strings]
    elif a.type == A.TENSORS:
        j["tensors"] = [tensor_json(t, base_dir) for t in a.tensors]
    elif a.type == A.GRAPHS:
        j["graphs"] = [graph_json(g, base_dir) for g in a.graphs]
    elif a.type == A.TYPE_PROTO:
        j["type_protos"] = [type_json(a.tp)]
    elif a.type == A.TYPE_PROTOS:
        j["type_protos"] = [type_json(t) for t in a.type_protos]
    return j


def node_json(n, base_dir):
    return {"op_type": n.op_type, "domain": n.domain, "name": n.name, "inputs": list(n.input),
            "outputs": list(n.output), "attributes": [attr_json(a, base_dir) for a in n.attribute]}


def graph_json(g, base_dir):
    return {
        "name": g.name,
        "inputs": [value_json(v) for v in g.input],
        "outputs": [value_json(v) for v in g.output],
        "value_info": [value_json(v) for v in g.value_info],
        "initializers": [tensor_json(t, base_dir) for t in g.initializer],
        "nodes": [node_json(n, base_dir) for n in g.node],
    }


def function_json(f, base_dir):
    return {"name": f.name, "domain": f.domain, "inputs": list(f.input), "outputs": list(f.output),
            "attributes": list(f.attribute), "attribute_defaults": [attr_json(a, base_dir) for a in f.attribute_proto],
            "nodes": [node_json(n, base_dir) for n in f.node], "doc_string": f.doc_string,
            "opset_import": [[o.domain, o.version] for o in f.opset_import]}


def model_json(path):
    m = onnx.load(path, load_external_data=False)
    base = os.path.dirname(path)
    return {
        "ir_version": m.ir_version, "producer_name": m.producer_name, "producer_version": m.producer_version,
        "domain": m.domain, "model_version": m.model_version, "doc_string": m.doc_string,
        "opset_import": [[o.domain, o.version] for o in m.opset_import],
        "metadata_props": [[p.key, p.value] for p in m.metadata_props],
        "graph": graph_json(m.graph, base),
        "functions": [function_json(f, base) for f in m.functions],
    }


def check(path, run_ort):
    onnx.checker.check_model(path, full_check=False)
    if run_ort:
        try:
            import onnxruntime as ort  # tools/requirements-peers.txt (scripts/setup.sh --peers)
        except ImportError:
            print(f"  (onnxruntime not installed: {path} not loaded in ONNX Runtime)")
            return
        so = ort.SessionOptions()
        so.log_severity_level = 3  # unused initializers are expected here
        ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


MODELS = [  # name, builder, external data, loads in ONNX Runtime
    ("dtypes", model_dtypes, False, True),
    ("external", model_external, True, True),
    ("subgraphs", model_subgraphs, False, True),
    ("decoder", model_decoder, False, False),   # GQA inputs are shaped for the reader, not for running
    ("static_batch", model_static_batch, False, True),
    ("attributes", model_attributes, False, False),  # a custom domain op
    ("functions", model_functions, False, True),
]


def generate():
    os.makedirs(OUT, exist_ok=True)
    goldens = {"onnx_version": onnx.__version__, "models": {}}
    for name, build, external, run_ort in MODELS:
        m = build()
        path = os.path.join(OUT, f"{name}.onnx")
        if external:
            data = f"{name}.onnx.data"
            if os.path.exists(os.path.join(OUT, data)):
                os.remove(os.path.join(OUT, data))
            onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                            size_threshold=64)  # compared with sys.getsizeof(raw_data)
            os.chmod(os.path.join(OUT, data), 0o644)
        else:
            onnx.save_model(m, path)
        check(path, run_ort)
        goldens["models"][f"{name}.onnx"] = model_json(path)
        print(f"{path}: {os.path.getsize(path)} bytes")
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump(goldens, f, indent=1, sort_keys=True)
        f.write("\n")


def check_written(folder):
    """onnx.checker (+ ONNX Runtime for standard-op models) on files lmx's writer produced."""
    runs = {f"{name}.onnx": run_ort for name, _, _, run_ort in MODELS}
    n = 0
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".onnx"):
            continue
        path = os.path.join(folder, f)
        check(path, runs.get(f.split("__")[-1], False))
        # and onnx reads the same content as from the original
        ref = os.path.join(OUT, f.split("__")[-1])
        if os.path.exists(ref):
            a, b = model_json(path), model_json(ref)
            strip_storage(a), strip_storage(b)
            assert a == b, f"{path} differs from {ref} as onnx reads it"
        print(f"ok {path}")
        n += 1
    if n == 0:
        sys.exit(f"no .onnx files in {folder}")


def strip_storage(j):
    if isinstance(j, dict):
        j.pop("storage", None)
        for v in j.values():
            strip_storage(v)
    elif isinstance(j, list):
        for v in j:
            strip_storage(v)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-written", metavar="DIR")
    args = ap.parse_args()
    if args.check_written:
        check_written(args.check_written)
    else:
        generate()
