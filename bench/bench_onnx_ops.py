#!/usr/bin/env python3
"""lmx vs onnxruntime on the same ONNX graphs: the matrix products of LLM exports
(com.microsoft MatMulNBits 4-bit, f32 MatMul) alone, and a decode step of a whole
`lmx export` decoder.

lmx runs through bench/bench_onnx_run.cpp, built here against BUILD's static libraries
(the command below builds them); onnxruntime in this process. Same thread count (2 by
default; onnxruntime's intra-op pool), interleaved rounds (lmx's reps, then onnxruntime's,
...), the median of every rep of each, wall and CPU time; prints milliseconds and the
ratios lmx / onnxruntime.

    cmake --build build/release --target onnx_node_tests   # builds the libraries it links
    .venv/bin/python bench/bench_onnx_ops.py --build build/release [--threads 2] [--rounds 5] [--reps 10]
        [--decoder /tmp/smol-onnx]   # a folder from `lmx export MODEL.gguf /tmp/smol-onnx`
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Static libraries of the layers bench_onnx_run.cpp reaches, dependents first.
LIBS = ["models", "ops", "graph", "formats", "kernels", "tensor", "base"]


def build_runner(build, work):
    exe = os.path.join(work, "bench_onnx_run-" + os.path.abspath(build).strip("/").replace("/", "_"))
    libs = [os.path.join(build, "src", lib, f"liblmx_{lib}.a") for lib in LIBS]
    subprocess.run(["c++", "-O2", "-std=c++20", f"-I{ROOT}/src", f"-I{ROOT}/include", os.path.join(HERE, "bench_onnx_run.cpp"),
                    "-o", exe, *libs, "-lpthread"], check=True)
    return exe


def matmul_nbits_model(k, n, block=32):
    """A [M, K] f32 times 4-bit weights [N, K] with f32 scales and packed uint8 zero points."""
    rng = np.random.default_rng(0)
    blocks = (k + block - 1) // block
    b = rng.integers(0, 256, size=(n, blocks, block // 2), dtype=np.uint8)
    scales = (rng.standard_normal((n * blocks,)) * 0.02).astype(np.float32)
    zp = rng.integers(0, 256, size=(n * ((blocks + 1) // 2),), dtype=np.uint8)
    node = helper.make_node("MatMulNBits", ["A", "B", "scales", "zp"], ["Y"], domain="com.microsoft",
                            K=k, N=n, bits=4, block_size=block)
    graph = helper.make_graph([node], "mmnb", [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", k])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])],
                              [onnx.numpy_helper.from_array(b, "B"), onnx.numpy_helper.from_array(scales, "scales"),
                               onnx.numpy_helper.from_array(zp, "zp")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)], ir_version=10)


def matmul_model(k, n):
    """A [M, K] f32 times a constant [K, N] f32."""
    w = (np.random.default_rng(1).standard_normal((k, n)) * 0.05).astype(np.float32)
    node = helper.make_node("MatMul", ["A", "W"], ["Y"])
    graph = helper.make_graph([node], "mm", [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", k])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])],
                              [onnx.numpy_helper.from_array(w, "W")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def ort_session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def time_ort(sess, feeds, reps):
    """[(wall ms, process CPU ms)] per rep."""
    sess.run(None, feeds)  # warm-up
    times = []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        sess.run(None, feeds)
        times.append(((time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3))
    return times


def time_lmx(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [tuple(float(x) for x in line.split()) for line in out.splitlines()]


def compare(name, lmx_cmd, sess, feeds, args):
    """Medians of wall and CPU time. On a shared machine the wall time also counts the
    time others' processes hold the cores; with one thread (--threads 1) the CPU time is
    the work alone. With more, onnxruntime's CPU time includes its threads' spinning."""
    lmx_t, ort_t = [], []
    for _ in range(args.rounds):
        lmx_t += time_lmx(lmx_cmd)
        ort_t += time_ort(sess, feeds, args.reps)
    lw, ow = statistics.median(t[0] for t in lmx_t), statistics.median(t[0] for t in ort_t)
    lc, oc = statistics.median(t[1] for t in lmx_t), statistics.median(t[1] for t in ort_t)
    print(f"{name:34s} wall: lmx {lw:8.3f} ms  onnxruntime {ow:8.3f} ms  lmx/ort {lw / ow:5.2f}   "
          f"CPU: lmx {lc:8.3f} ms  onnxruntime {oc:8.3f} ms  lmx/ort {lc / oc:5.2f}", flush=True)
    return {"name": name, "threads": args.threads, "lmx_wall_ms": lw, "ort_wall_ms": ow, "wall_ratio": lw / ow,
            "lmx_cpu_ms": lc, "ort_cpu_ms": oc, "cpu_ratio": lc / oc}


def bench_graph(name, model, m, k, exe, work, args):
    path = os.path.join(work, name.split()[0] + ".onnx")
    if not os.path.exists(path):
        onnx.save(model, path)
    a = np.random.default_rng(2).standard_normal((m, k)).astype(np.float32)
    a_path = os.path.join(work, f"a_{m}x{k}.bin")
    a.tofile(a_path)
    cmd = [exe, "graph", path, str(args.threads), str(args.reps), f"f32:{m}x{k}:{a_path}"]
    return compare(name, cmd, ort_session(path, args.threads), {"A": a}, args)


def bench_decoder(folder, exe, args, n_past=32):
    path = os.path.join(folder, "onnx", "model.onnx")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    layers, kv_heads = cfg["num_hidden_layers"], cfg["num_key_value_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    feeds = {"input_ids": np.array([[1]], np.int64), "attention_mask": np.ones((1, n_past + 1), np.int64),
             "position_ids": np.array([[n_past]], np.int64)}
    for i in range(layers):
        for kv in ("key", "value"):
            feeds[f"past_key_values.{i}.{kv}"] = np.full((1, kv_heads, n_past, head_dim), 0.01, np.float32)
    cmd = [exe, "decoder", path, str(args.threads), str(args.reps), str(layers), str(kv_heads), str(head_dim), str(n_past)]
    return compare(f"decoder step, past {n_past}", cmd, ort_session(path, args.threads), feeds, args)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"), help="CMake build folder with the lmx libraries")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--decoder", help="folder written by lmx export (onnx/model.onnx, config.json)")
    ap.add_argument("--only", help="run the cases whose name contains this")
    args = ap.parse_args()
    work = os.path.join(tempfile.gettempdir(), "lmx-bench-onnx-ops")
    os.makedirs(work, exist_ok=True)
    exe = build_runner(args.build, work)
    cases = [("MatMulNBits 4096x4096 decode", lambda: matmul_nbits_model(4096, 4096), 1, 4096),
             ("MatMulNBits 4096x4096 prefill 64", lambda: matmul_nbits_model(4096, 4096), 64, 4096),
             ("MatMul 576x1536 decode", lambda: matmul_model(576, 1536), 1, 576),
             ("MatMul 576x1536 prefill 64", lambda: matmul_model(576, 1536), 64, 576)]
    results = []
    for name, model, m, k in cases:
        if not args.only or args.only in name:
            results.append(bench_graph(name, model(), m, k, exe, work, args))
    if args.decoder and (not args.only or args.only in "decoder"):
        results.append(bench_decoder(args.decoder, exe, args))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
