#!/usr/bin/env python3
"""Generation speed on one ONNX decoder-with-past model: lmx against onnxruntime-genai and
a plain onnxruntime loop (the way transformers.js / optimum drive the graph), same
threads, runs interleaved, median of several.

The model is lmx's export of the default GGUF (`lmx export`), fp32 and 4-bit
(`lmx quantize`, the same bytes onnxruntime's quantizer writes), the 4-bit one also at
accuracy_level 4 (activations quantized to int8 by every runtime). Each runtime prefills a
fixed prompt of PROMPT tokens, then decodes GEN tokens greedily; we time the prefill and
the decode steps separately.

    make build && .venv/bin/python bench/bench_onnx_generate.py [--runs 5] [--threads 2]

onnxruntime-genai is not a dependency of the project: install it into a venv of its own
(`python3 -m venv /tmp/genai && /tmp/genai/bin/pip install onnxruntime-genai`) and pass
--genai-python /tmp/genai/bin/python; without it that column is left out.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LMX = os.path.join(ROOT, "build/release/bin/lmx")
PROMPT = "Write a short story about a robot who learns to paint. " * 4
GEN = 64

ORT_LOOP = r'''
import json, sys, time, numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
folder, model, threads, prompt, gen = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
cfg = json.load(open(folder + "/config.json"))
ids = Tokenizer.from_file(folder + "/tokenizer.json").encode(prompt, add_special_tokens=False).ids
o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
s = ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])
L, H, D = cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_dim"]
past = [np.zeros((1, H, 0, D), np.float32)] * (2 * L); cur, n, times = ids, 0, []
for step in range(gen + 1):  # stops at the end-of-text token, as lmx and genai do
    if step > 0 and cur[0] == cfg["eos_token_id"]: break
    feed = {"input_ids": np.array([cur], np.int64), "attention_mask": np.ones((1, n + len(cur)), np.int64),
            "position_ids": np.arange(n, n + len(cur), dtype=np.int64)[None]}
    for l in range(L):
        feed[f"past_key_values.{l}.key"] = past[2 * l]; feed[f"past_key_values.{l}.value"] = past[2 * l + 1]
    t0 = time.perf_counter(); r = s.run(None, feed); times.append(time.perf_counter() - t0)
    n += len(cur); past = r[1:]; cur = [int(np.argmax(r[0][0, -1]))]
print(json.dumps({"prompt_tokens": len(ids), "prefill_s": times[0], "decode_s": sum(times[1:]), "decoded": len(times) - 1}))
'''

GENAI = r'''
import json, sys, time, onnxruntime_genai as og
folder, threads, prompt, gen = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
cfg = og.Config(folder); cfg.clear_providers()
m = og.Model(cfg); tok = og.Tokenizer(m); ids = tok.encode(prompt)
p = og.GeneratorParams(m); p.set_search_options(max_length=len(ids) + gen + 1, do_sample=False)
g = og.Generator(m, p)
t0 = time.perf_counter(); g.append_tokens(ids); t1 = time.perf_counter()
n = 0
while n < gen and not g.is_done():
    g.generate_next_token(); n += 1
t2 = time.perf_counter()
print(json.dumps({"prompt_tokens": len(ids), "prefill_s": t1 - t0, "decode_s": t2 - t1, "decoded": n}))
'''


def run_lmx(folder, model_file, threads):
    out = subprocess.run([LMX, "generate", "-m", os.path.join(folder, "onnx", model_file), "-t", str(threads), "-n", str(GEN),
                          "--temp", "0", "-p", PROMPT], capture_output=True, text=True, check=True).stderr
    m = re.search(r"prompt (\d+) tokens in ([\d.]+) ms .*generated (\d+) tokens in ([\d.]+) ms", out)
    if not m:
        raise SystemExit("cannot read lmx's timing line:\n" + out)
    return {"prompt_tokens": int(m[1]), "prefill_s": float(m[2]) / 1e3, "decode_s": float(m[4]) / 1e3, "decoded": int(m[3])}


def run_script(python, script, args):
    out = subprocess.run([python, "-c", script, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=os.path.join(os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")),
                                                 "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--genai-python", help="a python with onnxruntime-genai installed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([LMX, "export", args.model, folder], check=True, capture_output=True)
        subprocess.run([LMX, "quantize", os.path.join(folder, "onnx/model.onnx"), os.path.join(folder, "onnx/model_q4.onnx")],
                       check=True, capture_output=True)
        # the same 4-bit weights at accuracy_level 4: every runtime may quantize A to int8
        subprocess.run([LMX, "quantize", "--accuracy-level", "4", os.path.join(folder, "onnx/model.onnx"),
                        os.path.join(folder, "onnx/model_q4_int8.onnx")], check=True, capture_output=True)
        genai_cfg = json.load(open(os.path.join(folder, "genai_config.json")))
        for model_file in ("model.onnx", "model_q4.onnx", "model_q4_int8.onnx"):
            genai_cfg["model"]["decoder"]["filename"] = "onnx/" + model_file
            genai_cfg["model"]["decoder"]["session_options"]["intra_op_num_threads"] = args.threads
            json.dump(genai_cfg, open(os.path.join(folder, "genai_config.json"), "w"))
            runners = {
                "lmx": lambda: run_lmx(folder, model_file, args.threads),
                "onnxruntime": lambda: run_script(os.path.join(ROOT, ".venv/bin/python"), ORT_LOOP,
                                                  [folder, os.path.join(folder, "onnx", model_file), str(args.threads), PROMPT, str(GEN)]),
            }
            if args.genai_python:
                runners["onnxruntime-genai"] = lambda: run_script(args.genai_python, GENAI, [folder, str(args.threads), PROMPT, str(GEN)])
            results = {name: [] for name in runners}
            for _ in range(args.runs):  # interleaved: each run of each runtime sees the same machine state
                for name, run in runners.items():
                    results[name].append(run())
            print(f"\n{model_file}: {args.threads} threads, median of {args.runs} runs, "
                  f"{results['lmx'][0]['prompt_tokens']}-token prompt, up to {GEN} generated (greedy, stops at end of text)")
            print(f"{'runtime':20} {'prefill tok/s':>14} {'decode tok/s':>13} {'lmx decode ×':>13}")
            lmx_decode = statistics.median(r["decoded"] / r["decode_s"] for r in results["lmx"])
            for name, rs in results.items():
                pp = statistics.median(r["prompt_tokens"] / r["prefill_s"] for r in rs)
                tg = statistics.median(r["decoded"] / r["decode_s"] for r in rs)
                print(f"{name:20} {pp:14.1f} {tg:13.1f} {lmx_decode / tg:13.2f}")


if __name__ == "__main__":
    main()
