#!/usr/bin/env python3
"""Logit and greedy-continuation goldens for the default model, from llama.cpp.

The reference is llama.cpp itself, through llama-cpp-python (built from its sdist by
scripts/setup.sh --peers). For each prompt we record llama.cpp's token ids (BOS added,
as the model's metadata asks), the logits at the last prompt position, and the
32-token greedy continuation (argmax at each step, no sampler in between) with
llama.cpp's margin between its top two logits at each step, so a test can tell a
real disagreement from a near-tie.

Writes tests/goldens/smollm2/goldens.json and one prompt<N>.logits.f32 per prompt
(raw little-endian float32, n_vocab values).

    .venv/bin/python tools/gen_logit_goldens.py [MODEL.gguf]
"""
import json
import os
import sys

import numpy as np
import llama_cpp
from llama_cpp import Llama

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "<|im_start|>user\nWhat is the boiling point of water at sea level?<|im_end|>\n<|im_start|>assistant\n",
]
N_GREEDY = 32

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "tests", "goldens", "smollm2")
model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")), "SmolLM2-135M-Instruct.Q4_1.gguf")

llm = Llama(model_path=model, n_ctx=512, logits_all=True, n_threads=2, n_batch=512, verbose=False)
records = []
for i, text in enumerate(PROMPTS):
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)
    llm.reset()
    llm.eval(tokens)
    last = np.array(llm.scores[len(tokens) - 1], dtype=np.float32)
    name = f"prompt{i}.logits.f32"
    last.tofile(os.path.join(out_dir, name))
    greedy, margins = [], []
    for _ in range(N_GREEDY):
        scores = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        nxt = int(np.argmax(scores))
        top2 = np.sort(scores)[-2:]
        greedy.append(nxt)
        margins.append(round(float(top2[1] - top2[0]), 4))
        llm.eval([nxt])
    records.append({"text": text, "tokens": tokens, "last_logits": name, "greedy": greedy, "margins": margins})
    print(f"prompt {i}: {len(tokens)} tokens, top-1 {int(np.argmax(last))}, greedy {greedy[:8]}...")

with open(os.path.join(out_dir, "goldens.json"), "w") as f:
    json.dump({"generator": f"llama-cpp-python {llama_cpp.__version__} (llama.cpp), n_threads=2, default context params",
               "model": os.path.basename(model), "n_vocab": int(llm.n_vocab()), "prompts": records}, f, indent=1)
