#!/usr/bin/env python3
"""Checks the tokenizer.json files lmx writes for GGUF vocabularies (tokenizer/hf_export.hpp)
with HF `tokenizers` itself, against llama.cpp's ids.

First write the files (tests/tokenizer/test_hf_export.cpp does it when LMX_HF_EXPORT_DIR is set):
  LMX_HF_EXPORT_DIR=/tmp/hf_export build/<dir>/tests/test_tokenizer --gtest_filter='*HfExport*'
then:
  .venv/bin/python tools/check_hf_export.py /tmp/hf_export

For every folder DIR/<name>/ holding a tokenizer.json, compares HF's ids with llama.cpp's:
  - <name> a vocabulary of shared/testdata/llama-vocab: its .inp/.out test vectors (no BOS,
    special text not parsed);
  - <name> in tests/goldens/tokenizer/llama_vocab_random.json: its seeded random strings
    (with BOS and parsed special text where the golden says so).
"Special text not parsed" is HF's encode_special_tokens=True. Prints the pass counts, and every
mismatch; exits 1 when there is one.
"""
import json
import os
import sys

from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_DIR = os.path.join(os.path.dirname(ROOT), "shared", "testdata", "llama-vocab")
RANDOM = os.path.join(ROOT, "tests", "goldens", "tokenizer", "llama_vocab_random.json")
SEP = "\n__ggml_vocab_test__\n"


def test_vectors(name):
    """(text, add_special, parse_special, ids) of llama.cpp's test vectors for a vocabulary."""
    path = os.path.join(VOCAB_DIR, "ggml-vocab-%s.gguf" % name)
    if not os.path.exists(path + ".inp"):
        return []
    with open(path + ".inp", encoding="utf-8", newline="") as f:
        texts = f.read().split(SEP)[:-1]  # the file ends with a separator
    with open(path + ".out", encoding="utf-8") as f:
        ids = [[int(t) for t in line.split()] for line in f.read().split("\n")[: len(texts)]]
    return [(t, False, False, i) for t, i in zip(texts, ids)]


def random_strings(name, golden):
    return [(c["text"], c["add_special"], c["parse_special"], c["ids"]) for c in golden["vocabs"].get(name, [])]


def encode(tok, text, add_special, parse_special):
    tok.encode_special_tokens = not parse_special
    return tok.encode(text, add_special_tokens=add_special).ids


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    with open(RANDOM, encoding="utf-8") as f:
        golden = json.load(f)
    failed = False
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name, "tokenizer.json")
        if not os.path.exists(path):
            continue
        tok = Tokenizer.from_file(path)
        for kind, cases in (("test vectors", test_vectors(name)), ("random strings", random_strings(name, golden))):
            if not cases:
                continue
            passed = 0
            for text, add_special, parse_special, expected in cases:
                got = encode(tok, text, add_special, parse_special)
                if got == expected:
                    passed += 1
                else:
                    failed = True
                    print("  MISMATCH %s %r add_special=%s parse_special=%s\n    hf:        %s\n    llama.cpp: %s"
                          % (name, text, add_special, parse_special, got, expected))
            print("%-22s %-15s HF tokenizers %d/%d match llama.cpp" % (name, kind, passed, len(cases)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
