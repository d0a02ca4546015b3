#!/usr/bin/env python3
"""One core, three languages: greedy generation tokens/s and compression KB/s of the
default model from the native CLI, the Python package and the WASM build in Node and in
headless Chromium, all on one thread (the WASM build has one), same prompt, same 2 KB
sample (the README's start). Then, in the same Chromium, the WASM peers on the same model
(bench/wasm/bench_browser.mjs): @wllama/wllama on the GGUF file, @huggingface/transformers
on its `lmx export` (fp32) and `lmx quantize` (q4) ONNX files.

    .venv/bin/python bench/bench_languages.py [--lmx build/release/bin/lmx] [--runs 3]

Needs the Python package's environment (bindings/python/.venv, from make test-python),
bindings/js built (make test-js), Debian's chromium and bench/wasm's npm packages
(scripts/setup.sh --peers).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PROMPT, N_GEN = "Once upon a time", 128


def native(lmx, sample):
    r = json.loads(subprocess.run([lmx, "bench", "-p", "4", "-n", str(N_GEN), "-t", "1", "-r", "3", "--json"],
                                  capture_output=True, text=True, check=True).stdout)
    t = time.perf_counter()
    packed = subprocess.run([lmx, "compress", "-q", "-j", "1", "-t", "1"], input=sample, capture_output=True, check=True).stdout
    tc = time.perf_counter() - t
    t = time.perf_counter()
    back = subprocess.run([lmx, "decompress", "-q", "-j", "1", "-t", "1"], input=packed, capture_output=True, check=True).stdout
    td = time.perf_counter() - t
    assert back == sample, "native round trip differs"
    return r["tg_mean"], len(sample) / 1024 / tc, len(sample) / 1024 / td  # CLI times include loading the model


PYTHON_RUN = """
import json, sys, time, lmx
sample = open(sys.argv[1], "rb").read()[:2048]
m = lmx.Model(n_threads=1)
gen = m.generate(%r, max_tokens=%d, temperature=0)
gen.text()
lmx.compress(b"A", m)  # hashes the model once, outside the timings
t = time.perf_counter(); packed = lmx.compress(sample, m, workers=1, threads=1); tc = time.perf_counter() - t
t = time.perf_counter(); back = lmx.decompress(packed, m, workers=1, threads=1); td = time.perf_counter() - t
assert back == sample, "Python round trip differs"
print(json.dumps([gen.tokens_per_second, len(sample) / 1024 / tc, len(sample) / 1024 / td]))
""" % (PROMPT, N_GEN)


def python():
    """In the package's own environment (bindings/python/.venv, made by make test-python)."""
    py = os.path.join(ROOT, "bindings", "python", ".venv", "bin", "python")
    return json.loads(subprocess.run([py, "-c", PYTHON_RUN, os.path.join(ROOT, "README.md")], capture_output=True,
                                     text=True, check=True).stdout)


def wasm_node():
    r = json.loads(subprocess.run(["node", "scripts/bench.mjs"], cwd=os.path.join(ROOT, "bindings", "js"),
                                  capture_output=True, text=True, check=True).stdout)
    return r["generation"]["pieces_per_s"], r["compression"]["compress_kb_s"], r["compression"]["decompress_kb_s"]


def wasm_browser(lmx, sample, runs):
    """bench/wasm/bench_browser.mjs: lmx and its WASM peers in one headless Chromium."""
    with tempfile.TemporaryDirectory() as folder:
        sample_file = os.path.join(folder, "sample.txt")
        open(sample_file, "wb").write(sample)
        onnx = os.path.join(folder, "smollm2")
        gguf = os.path.join(os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")), "SmolLM2-135M-Instruct.Q4_1.gguf")
        subprocess.run([lmx, "export", gguf, onnx], check=True, capture_output=True)
        subprocess.run([lmx, "quantize", os.path.join(onnx, "onnx/model.onnx"), os.path.join(onnx, "onnx/model_q4.onnx")],
                       check=True, capture_output=True)
        return json.loads(subprocess.run(["node", "bench_browser.mjs", "--onnx-dir", onnx, "--model", gguf, "--runs", str(runs),
                                          "--tokens", str(N_GEN), "--prompt", PROMPT, "--compress", sample_file],
                                         cwd=os.path.join(ROOT, "bench", "wasm"), capture_output=True, text=True,
                                         check=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lmx", default=os.path.join(ROOT, "build", "release", "bin", "lmx"))
    ap.add_argument("--runs", type=int, default=3, help="interleaved generation runs per runtime in Chromium (median)")
    a = ap.parse_args()
    sample = open(os.path.join(ROOT, "README.md"), "rb").read()[:2048]
    print("| runtime (1 thread) | generation tok/s | compress KB/s | decompress KB/s |\n|---|---|---|---|")
    for name, f in (("native CLI", lambda: native(a.lmx, sample)), ("Python", python),
                    ("WASM, Node", wasm_node)):
        g, c, d = f()
        print(f"| {name} | {g:.1f} | {c:.2f} | {d:.2f} |", flush=True)
    b = wasm_browser(a.lmx, sample, a.runs)
    rt = b["runtimes"]
    c = rt["lmx"]["compression"]
    print(f"| WASM, Chromium {b['chromium']} | {rt['lmx']['median_tokens_per_s']:.1f} | {c['compress_kb_s']:.2f} | "
          f"{c['decompress_kb_s']:.2f} |")
    print(f"\n| WASM in Chromium (1 thread, median of {a.runs}) | generation tok/s | lmx / runtime |\n|---|---|---|")
    for name, r in rt.items():
        print(f"| {name} ({r['info']}) | {r['median_tokens_per_s']:.1f} | "
              f"{rt['lmx']['median_tokens_per_s'] / r['median_tokens_per_s']:.2f} |")


if __name__ == "__main__":
    main()
