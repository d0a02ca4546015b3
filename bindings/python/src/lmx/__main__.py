"""python -m lmx --self-check [--verify-sha] [-m MODEL] [-t THREADS] [--json]

Prints the model's path, its SHA256 against the registry the package was built with
(models/registry.tsv, shipped in the package) when --verify-sha is given, its input and
output shapes, the kernel ISA and threads, and one timed forward pass. Exit status 1
when a check fails."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import lmx


def file_sha256(path: str) -> str:
    """A file's SHA256, or for a folder that of its sorted `sha256sum` manifest (as
    scripts/setup.sh computes it for folder models)."""
    if not os.path.isdir(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(8 << 20), b""):
                h.update(block)
        return h.hexdigest()
    rels = []
    for root, _, files in os.walk(path):
        for name in files:
            rels.append("./" + os.path.relpath(os.path.join(root, name), path).replace(os.sep, "/"))
    manifest = "".join(f"{file_sha256(os.path.join(path, r[2:]))}  {r}\n" for r in sorted(rels, key=lambda r: r.encode()))
    return hashlib.sha256(manifest.encode()).hexdigest()


def registry_entry(path: str) -> lmx.RegistryEntry | None:
    real = os.path.realpath(path)
    base = os.path.basename(real.rstrip("/"))
    for e in lmx.registry():
        if os.path.realpath(e.path) == real or e.file.rstrip("/") == base:
            return e
    return None


def self_check(model_arg: str | None, verify_sha: bool, threads: int) -> dict[str, object]:
    path = lmx.resolve_model(model_arg)
    out: dict[str, object] = {"path": path, "ok": True}
    if verify_sha:
        entry = registry_entry(path)
        if entry is None:
            raise lmx.LmxError(f"{path}: not in the model registry the package was built with: no SHA256 to check against")
        t0 = time.perf_counter()
        got = file_sha256(path)
        out["sha256"] = {"registry_name": entry.name, "expected": entry.sha256, "got": got, "ok": got == entry.sha256,
                         "ms": (time.perf_counter() - t0) * 1000}
        if got != entry.sha256:
            out["ok"] = False
    t0 = time.perf_counter()
    model = lmx.Model(path, n_threads=threads)
    out["load_ms"] = (time.perf_counter() - t0) * 1000
    info = model.info()
    out["info"] = info
    if model.kind == "decoder":
        out["input"] = "tokens int32[T] (T <= n_ctx), positions int32[T]"
        out["output"] = f"logits float32[T, {info['n_vocab']}]"
        out["check"] = model.self_check(threads)
    else:
        out["input"] = f"texts -> tokens int32[<= {info['max_length']}] per text"
        out["output"] = f"embeddings float32[N, {info['dims']}]"
        t0 = time.perf_counter()
        v = model.embed(["lmx self-check"])
        norm = float((v[0] ** 2).sum() ** 0.5)
        out["check"] = {"forward_ms": (time.perf_counter() - t0) * 1000, "threads": info["threads"], "isa": info["isa"],
                        "cpu_features": lmx.cpu_features(), "norm": norm}
        if not (norm == norm and norm > 0):
            out["ok"] = False
    return out


def print_report(r: dict[str, object]) -> None:
    info = r["info"]
    assert isinstance(info, dict)
    print(f"model     {r['path']}")
    sha = r.get("sha256")
    if isinstance(sha, dict):
        verdict = "verified" if sha["ok"] else f"MISMATCH: expected {sha['expected']}"
        print(f"sha256    {sha['got']} ({verdict}, registry {sha['registry_name']}, {sha['ms']:.0f} ms)")
    if "arch" in info:
        print(f"arch      {info['arch']}: vocab {info['n_vocab']}, ctx {info['n_ctx']} (trained {info['n_ctx_train']}), "
              f"layers {info['n_layers']}, embedding {info['n_embd']}, heads {info['n_heads']}/{info['n_kv_heads']}")
    else:
        print(f"encoder   dims {info['dims']}, vocab {info['n_vocab']}, max length {info['max_length']}, "
              f"pooling {info['pooling']}, normalize {info['normalize']}")
    print(f"input     {r['input']}")
    print(f"output    {r['output']}")
    check = r["check"]
    assert isinstance(check, dict)
    print(f"kernels   {check['isa']}; cpu {check['cpu_features']}; {check['threads']} threads")
    print(f"forward   {check['forward_ms']:.2f} ms (load {r['load_ms']:.1f} ms)")
    print("self-check " + ("passed" if r["ok"] else "FAILED"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lmx", description="lmx Python package")
    ap.add_argument("--self-check", action="store_true", help="load the model and run one timed forward pass")
    ap.add_argument("--verify-sha", action="store_true", help="check the model's SHA256 against the registry")
    ap.add_argument("-m", "--model", default=None, help="model path or registry name (default: the default model)")
    ap.add_argument("-t", "--threads", type=int, default=0, help="threads (default: all cores)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    a = ap.parse_args(argv)
    if not a.self_check:
        ap.print_help()
        return 0
    try:
        r = self_check(a.model, a.verify_sha, a.threads)
    except lmx.LmxError as e:
        print(f"python -m lmx: {e}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        print_report(r)
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
