#!/usr/bin/env python3
"""An fp32 ONNX graph of a BERT checkpoint (HF BertModel, last_hidden_state), built with
onnx.helper from the model folder's model.safetensors: the peer bench_embed.py runs
ONNX Runtime on, so both sides multiply the same fp32 weights (no torch needed).

    .venv/bin/python bench/bert_onnx.py MODEL_DIR OUT.onnx
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file


def export(model_dir, out_path):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = load_file(os.path.join(model_dir, "model.safetensors"))
    w = {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in w.items()}
    d, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd = d // heads
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    def dense(x, prefix, out):
        y = node("MatMul", [x, const(prefix + ".weight_t", w[prefix + ".weight"].T.copy())], out + "_mm")
        return node("Add", [y, const(prefix + ".bias", w[prefix + ".bias"])], out)

    def layer_norm(x, prefix, out):
        return node("LayerNormalization", [x, const(prefix + ".weight", w[prefix + ".weight"]), const(prefix + ".bias", w[prefix + ".bias"])],
                    out, axis=-1, epsilon=eps)

    # embeddings: word + position (0..S-1) + token type, then LayerNorm
    seq_len = node("Gather", [node("Shape", ["input_ids"], "ids_shape"), const("one", np.array(1, np.int64))], "seq_len")
    pos = node("Range", [const("zero", np.array(0, np.int64)), seq_len, const("step", np.array(1, np.int64))], "positions")
    x = node("Add", [node("Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], "we"),
                     node("Gather", [const("pos_emb", w["embeddings.position_embeddings.weight"]), pos], "pe")], "e1")
    x = node("Add", [x, node("Gather", [const("type_emb", w["embeddings.token_type_embeddings.weight"]), "token_type_ids"], "te")], "e2")
    x = layer_norm(x, "embeddings.LayerNorm", "emb")
    # padding: -10000 added to the scores of masked keys, [B, 1, 1, S]
    m = node("Unsqueeze", [node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT), const("axes12", np.array([1, 2], np.int64))], "mask4")
    bias = node("Mul", [node("Sub", [const("onef", np.array(1.0, np.float32)), m], "inv_mask"), const("neg", np.array(-10000.0, np.float32))], "mask_bias")
    heads_shape = const("heads_shape", np.array([0, 0, heads, hd], np.int64))
    merged_shape = const("merged_shape", np.array([0, 0, d], np.int64))
    for i in range(cfg["num_hidden_layers"]):
        p, o = f"encoder.layer.{i}.", f"l{i}_"

        def split(name, perm):
            return node("Transpose", [node("Reshape", [dense(x, p + "attention.self." + name, o + name), heads_shape], o + name + "_h")],
                        o + name + "_t", perm=perm)

        q, k, v = split("query", [0, 2, 1, 3]), split("key", [0, 2, 3, 1]), split("value", [0, 2, 1, 3])
        s = node("Mul", [node("MatMul", [q, k], o + "qk"), const(o + "scale", np.array(1 / np.sqrt(hd), np.float32))], o + "scaled")
        a = node("Softmax", [node("Add", [s, bias], o + "masked")], o + "probs", axis=-1)
        a = node("Reshape", [node("Transpose", [node("MatMul", [a, v], o + "ctx")], o + "ctx_t", perm=[0, 2, 1, 3]), merged_shape], o + "ctx_m")
        x = layer_norm(node("Add", [x, dense(a, p + "attention.output.dense", o + "attn_out")], o + "res1"), p + "attention.output.LayerNorm", o + "ln1")
        h = dense(x, p + "intermediate.dense", o + "inter")
        # exact GELU: h · ½ (1 + erf(h / √2))
        e = node("Erf", [node("Mul", [h, const(o + "rsqrt2", np.array(1 / np.sqrt(2), np.float32))], o + "hs")], o + "erf")
        h = node("Mul", [node("Mul", [h, node("Add", [e, const(o + "onef", np.array(1.0, np.float32))], o + "erf1")], o + "he"),
                         const(o + "half", np.array(0.5, np.float32))], o + "gelu")
        x = layer_norm(node("Add", [x, dense(h, p + "output.dense", o + "out")], o + "res2"), p + "output.LayerNorm", o + "ln2")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    dims = ["batch", "sequence"]
    graph = helper.make_graph(nodes, "bert", [helper.make_tensor_value_info(n, TensorProto.INT64, dims)
                                              for n in ("input_ids", "attention_mask", "token_type_ids")],
                              [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dims + [d])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)  # onnxruntime 1.22 reads up to IR 10
    onnx.checker.check_model(model)
    onnx.save(model, out_path)


if __name__ == "__main__":
    export(sys.argv[1], sys.argv[2])
