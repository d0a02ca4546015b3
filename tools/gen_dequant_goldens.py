#!/usr/bin/env python3
"""Dequantization goldens from an independent implementation: the gguf Python package
(pinned gguf==0.19.0, numpy 2.2.6), which reimplements ggml's dequantize_row_* in numpy.

Run:  .venv/bin/python tools/gen_dequant_goldens.py   (writes tests/goldens/dequant/)

For each type: N_BLOCKS random blocks (seeded, reproducible). Every byte is random except
the fp16 scale fields, which are random finite halves of moderate magnitude (|x| in
[2^-8, 2^4), random sign) so that every output is finite; the Q8_K float scale likewise.

File layout of tests/goldens/dequant/<type>.bin (little-endian):
    uint32 ggml type id
    uint32 n_elements
    uint32 n_bytes                       (= n_elements / block_elems * block_bytes)
    uint8  blocks[n_bytes]               raw ggml blocks
    float32 expected[n_elements]         gguf.quants.dequantize(blocks)

Also tests/goldens/dequant/quantize_q8_0.bin, for the activation quantizer (gguf's Q8_0
quantizer is documented bit-exact with ggml's quantize_row_q8_0_ref):
    uint32 n_elements
    float32 input[n_elements]
    uint8  blocks[n_elements / 32 * 34]  gguf.quants.quantize(input, Q8_0)
Inputs are drawn so that no x * (1 / d) lands on a tie (k + 0.5), where ggml's ref rounds
away from zero and lmx to even.

The gguf package has no Q8_1 or Q8_K dequantizer (ggml uses them only for activations):
Q8_1 is checked against gguf's Q8_0 on the same blocks with the redundant s field removed
(a Q8_1 block is a Q8_0 block plus s), Q8_K against float32 numpy d * qs.
"""
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

N_BLOCKS = 8
OUT = Path(__file__).resolve().parent.parent / "tests" / "goldens" / "dequant"

# byte offsets of the fp16 scale fields inside one block (ggml-common.h)
HALF_FIELDS = {
    T.F16: None, T.BF16: None, T.F32: None,
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0], T.Q8_1: [0, 2],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.Q8_K: [],
}


def random_halves(rng, count):
    mag = np.exp2(rng.uniform(-8, 4, count)) * rng.choice([-1.0, 1.0], count)
    return mag.astype(np.float16)


def make_blocks(rng, qtype):
    block_elems, block_bytes = GGML_QUANT_SIZES[qtype]
    if qtype == T.Q8_1:
        block_bytes = 36  # gguf 0.19 still lists the old 40-byte (float d, s) layout; ggml's is 2 halves
    if qtype in (T.F32, T.F16, T.BF16):
        n = N_BLOCKS * 32
        vals = rng.standard_normal(n).astype(np.float32) * 3
        if qtype == T.F32:
            raw = vals.view(np.uint8)
        elif qtype == T.F16:
            raw = vals.astype(np.float16).view(np.uint8)
        else:
            raw = (vals.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)  # truncate to bf16
        return n, raw.copy()
    blocks = rng.integers(0, 256, (N_BLOCKS, block_bytes), dtype=np.uint8)
    for off in HALF_FIELDS[qtype]:
        blocks[:, off:off + 2] = random_halves(rng, N_BLOCKS).view(np.uint8).reshape(N_BLOCKS, 2)
    if qtype == T.Q8_K:
        d = (np.exp2(rng.uniform(-12, -4, N_BLOCKS)) * rng.choice([-1.0, 1.0], N_BLOCKS)).astype(np.float32)
        blocks[:, 0:4] = d.view(np.uint8).reshape(N_BLOCKS, 4)
    return N_BLOCKS * block_elems, blocks.reshape(-1)


def expected(qtype, raw):
    if qtype == T.Q8_1:
        b = raw.reshape(-1, 36)
        return dequantize(np.concatenate([b[:, 0:2], b[:, 4:]], axis=1).reshape(-1), T.Q8_0)
    if qtype == T.Q8_K:
        b = raw.reshape(-1, 292)
        d = b[:, 0:4].copy().view(np.float32)
        qs = b[:, 4:260].copy().view(np.int8).astype(np.float32)
        return (d * qs).reshape(-1)
    return dequantize(raw, qtype)


def write_quantize_golden():
    rng = np.random.default_rng(7)
    blocks = (rng.standard_normal((64, 32)) * np.exp2(rng.uniform(-6, 6, (64, 1)))).astype(np.float32)
    blocks[5] = 0  # an all-zero block: d = 0, id = 0
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore"):
        scaled = blocks * np.where(d == 0, np.float32(0), np.float32(1) / d)
    assert not np.any(scaled - np.floor(scaled) == 0.5), "a tie: pick another seed"
    x = blocks.reshape(-1)
    q = quantize(x, T.Q8_0)
    path = OUT / "quantize_q8_0.bin"
    path.write_bytes(np.array([x.size], dtype="<u4").tobytes() + x.astype("<f4").tobytes() + q.tobytes())
    print(f"{path.name}: {x.size} elements")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for i, qtype in enumerate(HALF_FIELDS):
        rng = np.random.default_rng(1000 + i)
        n, raw = make_blocks(rng, qtype)
        want = np.asarray(expected(qtype, raw), dtype=np.float32).reshape(-1)
        assert want.size == n and np.all(np.isfinite(want)), qtype.name
        header = np.array([int(qtype), n, raw.size], dtype="<u4")
        path = OUT / f"{qtype.name.lower()}.bin"
        path.write_bytes(header.tobytes() + raw.tobytes() + want.astype("<f4").tobytes())
        print(f"{path.name}: {n} elements, {raw.size} bytes of blocks")
    write_quantize_golden()


if __name__ == "__main__":
    main()
