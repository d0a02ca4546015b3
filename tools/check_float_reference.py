#!/usr/bin/env python3
"""How far llama.cpp's logits sit from an exact forward pass of the same weights.

Runs the default model on the BOS token in float64 with numpy (weights dequantized
by gguf-py, no activation quantization) and compares llama.cpp's logits with it.
The result sizes the tolerance of tests/runtime/test_llama_goldens.cpp: both
runtimes re-quantize activations to 8 bits before each matmul, so each sits about
this far from the exact pass, and from each other.

    .venv/bin/python tools/check_float_reference.py [MODEL.gguf]
"""
import os
import sys

import gguf
import numpy as np
from llama_cpp import Llama

model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")), "SmolLM2-135M-Instruct.Q4_1.gguf")
reader = gguf.GGUFReader(model)
tensors = {t.name: t for t in reader.tensors}
arch = "llama"
field = lambda k: reader.fields[f"{arch}.{k}"].contents()
n_layers, n_heads, n_kv = field("block_count"), field("attention.head_count"), field("attention.head_count_kv")
eps = field("attention.layer_norm_rms_epsilon")


def weight(name):
    t = tensors[name]
    a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
    return a.reshape([int(x) for x in reversed(t.shape)]) if len(t.shape) > 1 else a.reshape(-1)


def rms_norm(x, w):
    return x / np.sqrt((x * x).mean() + eps) * w


embd = weight("token_embd.weight")
bos = int(reader.fields["tokenizer.ggml.bos_token_id"].contents())
x = embd[bos].copy()
for layer in range(n_layers):
    p = f"blk.{layer}."
    h = rms_norm(x, weight(p + "attn_norm.weight"))
    v = weight(p + "attn_v.weight") @ h  # one position: attention returns v
    head_dim = v.size // n_kv
    per_head = np.concatenate([v[(i * n_kv // n_heads) * head_dim:][:head_dim] for i in range(n_heads)])
    x = x + weight(p + "attn_output.weight") @ per_head
    h = rms_norm(x, weight(p + "ffn_norm.weight"))
    gate, up = weight(p + "ffn_gate.weight") @ h, weight(p + "ffn_up.weight") @ h
    x = x + weight(p + "ffn_down.weight") @ (gate / (1 + np.exp(-gate)) * up)
exact = embd @ rms_norm(x, weight("output_norm.weight"))

llm = Llama(model_path=model, n_ctx=64, logits_all=True, n_threads=2, verbose=False)
llm.eval([bos])
ref = np.array(llm.scores[0], dtype=np.float64)
d = np.abs(ref - exact)
print(f"llama.cpp vs exact float64 forward (BOS): max |diff| {d.max():.4f}, mean {d.mean():.4f}; "
      f"top-1 {int(ref.argmax())} vs {int(exact.argmax())}")
