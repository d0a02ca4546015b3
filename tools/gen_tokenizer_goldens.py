#!/usr/bin/env python3
"""Tokenizer goldens from llama.cpp (through llama-cpp-python), for tests/tokenizer.

Writes tests/goldens/tokenizer/:
  smollm2.json            the default model (SmolLM2-135M-Instruct): varied hand-written
                          strings and seeded random ones, with add_special / parse_special
                          on and off, plus BOS/EOS, end-of-generation ids and a digest of
                          every token's piece.
  llama_vocab_random.json seeded random strings for the vocab-only GGUFs in
                          ../shared/testdata/llama-vocab (gpt-2, mpt, deepseek-coder),
                          widening llama.cpp's own test vectors; and for the gpt-2 vocab
                          relabelled with other tokenizer.ggml.pre values ("gpt-2+qwen2"...),
                          which exercises those pre-tokenizers without their models.

Usage: .venv/bin/python tools/gen_tokenizer_goldens.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
Needs llama-cpp-python (tested with 0.3.36).
"""
import ctypes
import hashlib
import json
import os
import random
import struct
import sys
import tempfile

import llama_cpp
from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "goldens", "tokenizer")
VOCAB_DIR = os.path.join(ROOT, "..", "shared", "testdata", "llama-vocab")
DEFAULT_MODEL = os.path.expanduser("~/.cache/lmx/models/SmolLM2-135M-Instruct.Q4_1.gguf")

HAND_WRITTEN = [
    "",
    "Hello world",
    " Hello world",
    "Hello, world! How are you today?",
    "I'm sure they'll say we've done what you'd like, isn't it? THEY'RE HERE'S",
    "The quick brown fox jumps over the lazy dog.\nThe end.",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "for (int i = 0; i < 10; ++i) { x[i] = y[i] * 2.5f; } // comment",
    "1234567890 3.14159 1,000,000 0x1F 2024-05-09 12:30:45 -17 +3e-10",
    "٣٤٥ ½ Ⅻ ² 𝟘𝟙 ①②",
    "Führer naïve café résumé Ærøskøbing straße",
    "Привет, мир! Как дела?",
    "Γειά σου Κόσμε",
    "你好，世界！我爱编程。",
    "こんにちは世界、カタカナとひらがな",
    "안녕하세요 세계",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "e\u0301 a\u0308 combining marks",
    "👍 😀🎉 👨‍👩‍👧‍👦 🇺🇸🇩🇪 👋🏽",
    "   ",
    "\t\t\t",
    "\n\n\n",
    "a  b   c    d",
    "   leading and trailing   ",
    "line one\r\nline two\r\n\r\n",
    "no\u00a0break\u3000ideographic\u2028line\u2029para\u0085nel",
    "\x00\x01\x1c\x1d\x1e\x1f\x7f control chars",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>",
    "text<|im_end|>more text<|endoftext|>",
    "<reponame>lmx<file_sep>src/main.cpp",
    "<|im_start <|im_end| |im_start|>",
    "<|im_start|><|im_start|><|im_end|>",
    "' 's 'S 'll 'LL ''' '",
    "!!! ??? ... --- *** ### $$$ %%% ^^^ ~~~ ||| <<< >>>",
    "https://example.com/path?query=value&other=1#frag",
    "user@example.com, @mention #hashtag",
    "a" * 200,
    " " * 100 + "x",
    "word " * 50,
]

# Characters from every class the pre-tokenizers distinguish, for random strings.
POOL = (list("abcXYZ019 '\"!?.,;:-_()[]{}<>/\\|$+=^~`@#%&*\t\n\r")
        + ["  ", "\r\n", "'s", "'re", "'LL", "\u00a0", "\u3000", "\u2003", "\u0085", "\u200b", "é", "ß", "Ω",
           "ж", "中", "文", "한", "ア", "ก", "\u0301", "٣", "½", "Ⅻ", "€", "©", "«", "»", "…", "—", "😀", "👍🏽",
           "\u200d", "\x1f", "\x00", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "õ", "÷", "ÿ"])


def random_strings(seed, count, max_len):
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(1, max_len))) for _ in range(count)]


def load(path):
    return Llama(path, vocab_only=True, verbose=False)


def tokenize(llm, text, add_special, parse_special):
    return llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=parse_special)


def pieces_digest(llm, special):
    """sha256 over every token's piece, each as a 4-byte little-endian length and its bytes."""
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    buf = ctypes.create_string_buffer(1024)
    h = hashlib.sha256()
    for i in range(llama_cpp.llama_vocab_n_tokens(vocab)):
        n = llama_cpp.llama_token_to_piece(vocab, i, buf, len(buf), 0, special)
        assert 0 <= n <= len(buf)
        h.update(struct.pack("<I", n) + buf.raw[:n])
    return h.hexdigest()


def with_pre(data, pre):
    """The GGUF bytes with tokenizer.ggml.pre set to pre (the test does the same splice)."""
    key = b"tokenizer.ggml.pre"
    at = data.index(key) + len(key) + 4  # past the key and its value type (string)
    (n,) = struct.unpack_from("<Q", data, at)
    return data[:at] + struct.pack("<Q", len(pre)) + pre.encode() + data[at + 8 + n:]


def cases_for(llm, texts, flags):
    return [{"text": t, "add_special": a, "parse_special": p, "ids": tokenize(llm, t, a, p)}
            for t in texts for a, p in flags]


def write(name, data):
    path = os.path.join(OUT_DIR, name)
    # One case per line keeps the files readable and their diffs small.
    lines = []
    for key, value in data.items():
        if key == "cases":
            lines.append('"cases": [\n' + ",\n".join(json.dumps(c) for c in value) + "\n]")
        elif key == "vocabs":
            lines.append('"vocabs": {\n' + ",\n".join(
                '%s: [\n%s\n]' % (json.dumps(name), ",\n".join(json.dumps(c) for c in cases))
                for name, cases in value.items()) + "\n}")
        else:
            lines.append("%s: %s" % (json.dumps(key), json.dumps(value)))
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    print("wrote", path)


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    os.makedirs(OUT_DIR, exist_ok=True)

    llm = load(model)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    all_flags = [(False, False), (False, True), (True, False), (True, True)]
    write("smollm2.json", {
        "generator": "tools/gen_tokenizer_goldens.py, llama-cpp-python %s" % llama_cpp.__version__,
        "model": os.path.basename(model),
        "n_vocab": n_vocab,
        "bos": llama_cpp.llama_vocab_bos(vocab),
        "eos": llama_cpp.llama_vocab_eos(vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "end_of_generation": [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)],
        "pieces_sha256": pieces_digest(llm, False),
        "pieces_special_sha256": pieces_digest(llm, True),
        "cases": cases_for(llm, HAND_WRITTEN, all_flags)
                 + cases_for(llm, random_strings(1, 60, 24), [(False, False), (False, True)]),
    })

    vocabs = {}
    for name in ["gpt-2", "mpt", "deepseek-coder"]:
        v = load(os.path.join(VOCAB_DIR, "ggml-vocab-%s.gguf" % name))
        vocabs[name] = cases_for(v, random_strings(2, 60, 24), [(False, False)])
    with open(os.path.join(VOCAB_DIR, "ggml-vocab-gpt-2.gguf"), "rb") as f:
        gpt2 = f.read()
    for pre in ["default", "llama-bpe", "qwen2", "deepseek-coder", "smollm"]:
        with tempfile.NamedTemporaryFile(suffix=".gguf") as tmp:
            tmp.write(with_pre(gpt2, pre))
            tmp.flush()
            v = load(tmp.name)
            vocabs["gpt-2+" + pre] = (cases_for(v, HAND_WRITTEN[:30], [(False, False), (True, True)])
                                      + cases_for(v, random_strings(3, 60, 24), [(False, False)]))
    write("llama_vocab_random.json", {
        "generator": "tools/gen_tokenizer_goldens.py, llama-cpp-python %s" % llama_cpp.__version__,
        "vocabs": vocabs,
    })


if __name__ == "__main__":
    main()
