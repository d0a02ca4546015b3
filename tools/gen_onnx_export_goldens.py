#!/usr/bin/env python3
"""onnxruntime's logits on lmx's ONNX export of the default model (SmolLM2), the
reference the export test (tests/models/test_onnx_export.cpp) compares lmx against.

`lmx export` writes the decoder-with-past graph; onnxruntime (PyPI) runs it as any
transformers.js/optimum model is run: a prefill of the prompt minus its last
DECODE_STEPS tokens, then one token at a time with the past key/values fed back. For
each prompt of tests/goldens/smollm2/goldens.json we record every logit of the last
step and the greedy continuation (N_GREEDY tokens, argmax, past fed back) with the
margin between onnxruntime's top two logits at each step.

Writes tests/goldens/onnx-export-smollm2/goldens.json and prompt<N>.logits.f32.

    make build && .venv/bin/python tools/gen_onnx_export_goldens.py [MODEL.gguf]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DECODE_STEPS = 3
N_GREEDY = 8


def run(sess, n_layers, kv_heads, head_dim, ids, past):
    past_len = 0 if past is None else past[0].shape[2]
    feed = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, past_len + len(ids)), dtype=np.int64),
        "position_ids": np.arange(past_len, past_len + len(ids), dtype=np.int64)[None, :],
    }
    for l in range(n_layers):
        for i, kv in enumerate(("key", "value")):
            feed[f"past_key_values.{l}.{kv}"] = (past[2 * l + i] if past is not None
                                                 else np.zeros((1, kv_heads, 0, head_dim), dtype=np.float32))
    out = sess.run(None, feed)
    return out[0][0], out[1:]


def main():
    ap = argparse.ArgumentParser()
    home = os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models"))
    ap.add_argument("model", nargs="?", default=os.path.join(home, "SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = ap.parse_args()
    prompts = json.load(open(os.path.join(ROOT, "tests/goldens/smollm2/goldens.json")))["prompts"]
    out_dir = os.path.join(ROOT, "tests/goldens/onnx-export-smollm2")
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([os.path.join(ROOT, "build/release/bin/lmx"), "export", args.model, tmp], check=True)
        cfg = json.load(open(os.path.join(tmp, "config.json")))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        sess = ort.InferenceSession(os.path.join(tmp, "onnx/model.onnx"), opts, providers=["CPUExecutionProvider"])
        n_layers, kv_heads, head_dim = cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_dim"]
        records = []
        for n, p in enumerate(prompts):
            tokens = p["tokens"]
            logits, past = run(sess, n_layers, kv_heads, head_dim, tokens[:-DECODE_STEPS], None)
            for t in tokens[-DECODE_STEPS:]:
                logits, past = run(sess, n_layers, kv_heads, head_dim, [t], past)
            last = logits[-1].astype(np.float32)
            name = f"prompt{n}.logits.f32"
            last.tofile(os.path.join(out_dir, name))
            greedy, margins = [], []
            for _ in range(N_GREEDY):
                top2 = np.sort(logits[-1])[-2:]
                tok = int(np.argmax(logits[-1]))
                greedy.append(tok)
                margins.append(float(top2[1] - top2[0]))
                logits, past = run(sess, n_layers, kv_heads, head_dim, [tok], past)
            records.append({"tokens": tokens, "decode_steps": DECODE_STEPS, "last_logits": name,
                            "greedy": greedy, "margins": margins})
    json.dump({"generator": f"tools/gen_onnx_export_goldens.py, onnxruntime {ort.__version__}",
               "model": os.path.basename(args.model), "n_vocab": cfg["vocab_size"], "prompts": records},
              open(os.path.join(out_dir, "goldens.json"), "w"), indent=1)
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    main()
