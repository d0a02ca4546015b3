#!/usr/bin/env python3
"""Logit and greedy-continuation goldens for each supported model, from llama.cpp.

The reference is llama.cpp itself, through llama-cpp-python (built from its sdist by
scripts/setup.sh --peers). For each prompt we record llama.cpp's token ids (BOS added
when the model's metadata asks for it), the logits at the last prompt position, and
the 32-token greedy continuation (argmax at each step, no sampler in between) with
llama.cpp's margin between its top two logits at each step, so a test can tell a
real disagreement from a near-tie.

Writes tests/goldens/<name>/goldens.json and one prompt<N>.logits.f32 per prompt (raw
little-endian float32). For the default model (SmolLM2, 49152 tokens) the file holds
every logit; for the large vocabularies (150k-260k tokens, 0.6-1 MB per prompt) it
holds a sample, to keep the goldens small: llama.cpp's top 256 tokens plus every
101st token id, listed in "logit_ids".

    .venv/bin/python tools/gen_logit_goldens.py [--model NAME] [MODEL.gguf]
"""
import argparse
import json
import os
import random

import numpy as np
import llama_cpp
from llama_cpp import Llama

N_GREEDY = 32
SAMPLE_TOP, SAMPLE_STRIDE = 256, 101


def rooms_prompt():
    """Over 512 tokens (gemma3's sliding window): the question at the end needs a fact
    from the start, which only the global layers still see."""
    rng = random.Random(7)
    colors = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple"]
    lines = [f"Room {i} has a {rng.choice(colors)} door and {rng.randint(2, 9)} windows." for i in range(1, 43)]
    return "\n".join(lines) + "\nQuestion: how many windows does Room 2 have?\nAnswer: Room 2 has"


MODELS = {
    "smollm2": {
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "n_ctx": 512,
        "sample_logits": False,
        "prompts": [
            "The capital of France is",
            "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
            "<|im_start|>user\nWhat is the boiling point of water at sea level?<|im_end|>\n<|im_start|>assistant\n",
        ],
    },
    "qwen2.5-coder-1.5b": {
        "file": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "n_ctx": 512,
        "sample_logits": True,
        "prompts": [
            "The capital of France is",
            "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
            # the model's chat template with its default system prompt
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nWrite a Python function that checks whether a number is prime.<|im_end|>\n"
            "<|im_start|>assistant\n",
        ],
    },
    "gemma3-270m": {
        "file": "gemma-3-270m-q4_k_m.gguf",
        "n_ctx": 1024,
        "sample_logits": True,
        "prompts": [
            "The capital of France is",
            "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
            # gemma's turn format (this base model's GGUF carries no template)
            "<start_of_turn>user\nWhat is the boiling point of water at sea level?<end_of_turn>\n<start_of_turn>model\n",
            rooms_prompt(),
        ],
    },
}

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--model", default="smollm2", choices=sorted(MODELS))
ap.add_argument("path", nargs="?", help="the model file (default: $LMX_HOME/<the model's file>)")
args = ap.parse_args()
spec = MODELS[args.model]

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "tests", "goldens", args.model)
os.makedirs(out_dir, exist_ok=True)
model = args.path or os.path.join(os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")), spec["file"])

llm = Llama(model_path=model, n_ctx=spec["n_ctx"], logits_all=True, n_threads=2, n_batch=512, verbose=False)
n_vocab = int(llm.n_vocab())
records = []
for i, text in enumerate(spec["prompts"]):
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)
    llm.reset()
    llm.eval(tokens)
    last = np.array(llm.scores[len(tokens) - 1], dtype=np.float32)
    name = f"prompt{i}.logits.f32"
    record = {"text": text, "tokens": tokens, "last_logits": name}
    if spec["sample_logits"]:
        ids = sorted(set(np.argsort(last)[-SAMPLE_TOP:].tolist()) | set(range(0, n_vocab, SAMPLE_STRIDE)))
        record["logit_ids"] = ids
        last = last[ids]
    last.tofile(os.path.join(out_dir, name))
    greedy, margins = [], []
    for _ in range(N_GREEDY):
        scores = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        nxt = int(np.argmax(scores))
        top2 = np.sort(scores)[-2:]
        greedy.append(nxt)
        margins.append(round(float(top2[1] - top2[0]), 4))
        llm.eval([nxt])
    record.update(greedy=greedy, margins=margins)
    records.append(record)
    print(f"prompt {i}: {len(tokens)} tokens, greedy {greedy[:8]}..., min margin {min(margins)}")

with open(os.path.join(out_dir, "goldens.json"), "w") as f:
    json.dump({"generator": f"llama-cpp-python {llama_cpp.__version__} (llama.cpp), n_threads=2, default context params",
               "model": os.path.basename(model), "n_vocab": n_vocab, "prompts": records}, f, indent=1)
