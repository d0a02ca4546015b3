#!/usr/bin/env python3
"""Bits per byte and speed of `lmx compress` against gzip -9, xz -9e, zstd -19 --long and
brotli -q 11 (whichever are installed), on the files given.

    bench/bench_compress.py [--lmx build/release/bin/lmx] [--chunk 4096] FILE...

lmx's round trip is checked byte for byte; its speed is in KB/s of original text.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

PEERS = [("gzip -9", ["gzip", "-9", "-c"]), ("xz -9e", ["xz", "-9e", "-c"]),
         ("zstd -19 --long", ["zstd", "-19", "--long", "-q", "-c"]), ("brotli -q 11", ["brotli", "-q", "11", "-c"])]


def timed(cmd, data):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True).stdout
    return out, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lmx", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "bin", "lmx"))
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    print("| file | bytes | coder | bits/byte | compress KB/s | decompress KB/s |\n|---|---|---|---|---|---|")
    for path in a.files:
        data = open(path, "rb").read()
        name, n = os.path.basename(path), max(len(data), 1)
        packed, tc = timed([a.lmx, "compress", "-q", "--chunk", str(a.chunk)], data)
        back, td = timed([a.lmx, "decompress", "-q"], packed)
        if back != data:
            sys.exit(f"lmx round trip of {path} differs")
        print(f"| {name} | {len(data)} | lmx | {8 * len(packed) / n:.3f} | {len(data) / 1e3 / tc:.2f} | {len(data) / 1e3 / td:.2f} |")
        for label, cmd in PEERS:
            if shutil.which(cmd[0]):
                out, t = timed(cmd, data)
                print(f"| {name} | {len(data)} | {label} | {8 * len(out) / n:.3f} | {len(data) / 1e3 / t:.0f} | |")


if __name__ == "__main__":
    main()
