#!/usr/bin/env python3
"""The cross-entropy of a GGUF model on a text, in bits per byte, computed by llama.cpp
(llama-cpp-python): the bound any coder driven by that model's probabilities approaches,
an independent check on `lmx compress`'s ratio. The text is cut as lmx compress cuts it
(chunks of --chunk bytes, cut at a UTF-8 character start), each chunk
starting from the model's BOS token with an empty context.

    .venv/bin/python bench/llama_bpb.py [-m MODEL.gguf] [--chunk 4096] FILE...
"""
import argparse
import math
import os

import numpy as np
from llama_cpp import Llama

DEFAULT_MODEL = os.path.expanduser("~/.cache/lmx/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def chunks(data: bytes, size: int):
    """lmx's split_chunks: size bytes, the cut moved back (by at most 3) to a UTF-8 character start."""
    while data:
        n = min(size, len(data))
        if n < len(data):
            for back in range(3):
                if n - back <= 1:
                    break
                if data[n - back] & 0xC0 != 0x80:
                    n -= back
                    break
        yield data[:n]
        data = data[n:]


def chunk_bits(llm: Llama, text: bytes) -> float:
    tokens = [llm.token_bos()] + llm.tokenize(text, add_bos=False, special=False)
    llm.reset()
    llm.eval(tokens)
    logits = np.asarray(llm.scores[: len(tokens) - 1], dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits).sum(axis=1))
    nll = log_z - logits[np.arange(len(tokens) - 1), tokens[1:]]
    return float(nll.sum() / math.log(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", default=DEFAULT_MODEL)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("-t", "--threads", type=int, default=os.cpu_count())
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    llm = Llama(a.model, n_ctx=min(a.chunk + 8, 8192), n_batch=512, logits_all=True, n_threads=a.threads, verbose=False)
    print("| file | bytes | chunk | llama.cpp cross-entropy, bits/byte |\n|---|---|---|---|")
    for path in a.files:
        data = open(path, "rb").read()
        bits = sum(chunk_bits(llm, c) for c in chunks(data, a.chunk))
        print(f"| {os.path.basename(path)} | {len(data)} | {a.chunk} | {bits / max(len(data), 1):.3f} |")


if __name__ == "__main__":
    main()
