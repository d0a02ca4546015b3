#!/usr/bin/env python3
"""lmx vs llama.cpp on the same GGUF file: prompt processing and generation tokens/s.

Same thread count, interleaved repetitions (lmx, llama.cpp, lmx, ...), median of
each; prints the ratio lmx / llama.cpp, and generation as a share of its memory bound
(`lmx bench --roofline`: measured read bandwidth over the weight bytes a token reads).
llama.cpp runs through llama-cpp-python (built from its sdist by scripts/setup.sh
--peers); its timings include the Python call per token (a few microseconds, well under
1% of a token here).

    .venv/bin/python bench/bench.py --lmx build/release/bin/lmx [--threads 2] [--reps 5] [--record]
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time

import numpy as np
from llama_cpp import Llama
import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")),
                             "SmolLM2-135M-Instruct.Q4_1.gguf")


def run_lmx(lmx, model, threads, n_prompt, n_gen):
    out = subprocess.run([lmx, "bench", "-m", model, "-t", str(threads), "-p", str(n_prompt), "-n", str(n_gen),
                          "-r", "1", "--json"], check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    return j["pp_tok_s"][0], j["tg_tok_s"][0], j["isa"]


def run_llama(llm, n_vocab, n_prompt, n_gen, rng):
    tokens = rng.integers(0, n_vocab, n_prompt).tolist()
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    pp = n_prompt / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(n_gen):
        llm.eval([int(rng.integers(0, n_vocab))])
    tg = n_gen / (time.perf_counter() - t0)
    return pp, tg


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmx", default=os.path.join(HERE, "..", "build", "release", "bin", "lmx"))
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--n-prompt", type=int, default=512)
    ap.add_argument("--n-gen", type=int, default=128)
    ap.add_argument("--record", action="store_true", help="append the result table to docs/benchmarks.md")
    a = ap.parse_args()

    llm = Llama(model_path=a.model, n_ctx=a.n_prompt + a.n_gen + 8, n_batch=a.n_prompt, n_threads=a.threads,
                n_threads_batch=a.threads, verbose=False)
    n_vocab = llm.n_vocab()
    rng = np.random.default_rng(1234)
    run_llama(llm, n_vocab, min(a.n_prompt, 64), 8, rng)  # warm-up
    res = {"lmx": {"pp": [], "tg": []}, "llama.cpp": {"pp": [], "tg": []}}
    isa = "?"
    for r in range(a.reps):
        pp, tg, isa = run_lmx(a.lmx, a.model, a.threads, a.n_prompt, a.n_gen)
        res["lmx"]["pp"].append(pp)
        res["lmx"]["tg"].append(tg)
        pp, tg = run_llama(llm, n_vocab, a.n_prompt, a.n_gen, rng)
        res["llama.cpp"]["pp"].append(pp)
        res["llama.cpp"]["tg"].append(tg)
        print(f"rep {r + 1}/{a.reps}: lmx pp {res['lmx']['pp'][-1]:.1f} tg {res['lmx']['tg'][-1]:.1f} | "
              f"llama.cpp pp {pp:.1f} tg {tg:.1f}", flush=True)

    med = {k: {t: statistics.median(v[t]) for t in v} for k, v in res.items()}
    # the memory bound of generation: read bandwidth over the weight bytes a token reads
    roof = json.loads(subprocess.run([a.lmx, "bench", "-m", a.model, "-t", str(a.threads), "-p", "0", "-n", "1", "-r", "1",
                                      "--roofline", "--json"], check=True, capture_output=True, text=True).stdout)
    bound = roof["tg_bound_tok_s"]
    model = os.path.basename(a.model)
    lines = [
        f"### {datetime.date.today().isoformat()} — {model}, {a.threads} threads",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores; lmx kernels: {isa}; "
        f"llama.cpp: llama-cpp-python {llama_cpp.__version__}. Median of {a.reps} interleaved runs.",
        "",
        "| test | lmx tok/s | llama.cpp tok/s | lmx / llama.cpp |",
        "|---|---|---|---|",
        f"| pp{a.n_prompt} | {med['lmx']['pp']:.1f} | {med['llama.cpp']['pp']:.1f} | {med['lmx']['pp'] / med['llama.cpp']['pp']:.2f} |",
        f"| tg{a.n_gen} | {med['lmx']['tg']:.1f} | {med['llama.cpp']['tg']:.1f} | {med['lmx']['tg'] / med['llama.cpp']['tg']:.2f} |",
        "",
        f"Roofline: read bandwidth {roof['read_gb_s_1_thread']:.1f} GB/s (1 thread), {roof['read_gb_s']:.1f} GB/s "
        f"({a.threads} threads); {roof['weight_bytes_per_token'] / 1e6:.1f} MB of weights a token, so generation is bound "
        f"by {bound:.1f} tok/s: lmx runs at {100 * med['lmx']['tg'] / bound:.0f}%, llama.cpp at "
        f"{100 * med['llama.cpp']['tg'] / bound:.0f}% of it.",
        "",
    ]
    print("\n".join(lines))
    if a.record:
        with open(os.path.join(HERE, "..", "docs", "benchmarks.md"), "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
