#!/usr/bin/env python3
"""Writes the GGUF files the formats tests and the gguf fuzzer start from, using gguf-py
(the reference writer from llama.cpp), so lmx's reader is checked against bytes it did
not produce itself.

  tests/formats/data/gguf-py-all-types.gguf  every metadata value type, nested arrays,
                                             alignment 64, tensors of five dtypes
  fuzz/seeds/gguf/*.gguf                      tiny valid files (v3, little and big endian)

Run from the repo root with the project venv (gguf 0.19.0, numpy 2.2.6):
  .venv/bin/python tools/make_gguf_fixture.py
The expected values in tests/formats/test_gguf_fixture.cpp are the ones written here.
"""
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFEndian, GGUFValueType as V, GGUFWriter

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, w: GGUFWriter) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


def all_types(path: Path) -> None:
    w = GGUFWriter(path, "testarch")  # also writes general.architecture = "testarch"
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo wörld")
    w.add_uint64("t.u64", 18000000000000000000)
    w.add_int64("t.i64", -9000000000000000000)
    w.add_float64("t.f64", -2.25e300)
    w.add_key_value("t.arr.u8", [1, 2, 255], V.ARRAY, V.UINT8)
    w.add_key_value("t.arr.i16", [-1, 2, -300], V.ARRAY, V.INT16)
    w.add_key_value("t.arr.u64", [0, 18446744073709551615], V.ARRAY, V.UINT64)
    w.add_key_value("t.arr.f32", [0.5, -1.0, 3.25], V.ARRAY, V.FLOAT32)
    w.add_key_value("t.arr.f64", [1e-300, 2.0], V.ARRAY, V.FLOAT64)
    w.add_key_value("t.arr.bool", [True, False, True], V.ARRAY, V.BOOL)
    w.add_array("t.arr.str", ["a", "", "ĠHello", "<|im_end|>"])
    w.add_array("t.arr.nested", [[1, 2], [3], [4, 5, 6]])  # inner arrays of int32
    w.add_array("t.arr.nested_str", [["x", "yy"], ["zzz"]])

    rng = np.random.default_rng(7)
    w.add_tensor("f32.weight", np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5)
    w.add_tensor("f16.weight", np.array([1, -2, 0.5, 65504, 0, -0.25, 3, 7], dtype=np.float16))
    w.add_tensor("i32.ids", np.array([5, -6, 7, 2147483647, -2147483648], dtype=np.int32))
    # Raw quantized blocks: gguf-py takes the byte shape and derives the element shape.
    w.add_tensor("q8_0.weight", rng.integers(0, 256, size=(2, 34), dtype=np.uint8), raw_dtype=Q.Q8_0)
    w.add_tensor("q4_K.weight", rng.integers(0, 256, size=(1, 144), dtype=np.uint8), raw_dtype=Q.Q4_K)
    write(path, w)


def seed(path: Path, endian: GGUFEndian, with_tensors: bool) -> None:
    w = GGUFWriter(path, "llama", endianess=endian)
    w.add_uint32("llama.block_count", 1)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_array("tokenizer.ggml.tokens", ["<s>", "a", "b", "ab"])
    w.add_key_value("tokenizer.ggml.token_type", [3, 1, 1, 1], V.ARRAY, V.INT32)
    w.add_array("t.nested", [[1], [2, 3]])
    if with_tensors:
        w.add_tensor("output_norm.weight", np.ones(32, dtype=np.float32))  # byteswapped for BIG
        w.add_tensor("token_embd.weight", np.zeros((2, 34), dtype=np.uint8), raw_dtype=Q.Q8_0)
    write(path, w)


def main() -> None:
    data = ROOT / "tests/formats/data"
    seeds = ROOT / "fuzz/seeds/gguf"
    data.mkdir(parents=True, exist_ok=True)
    seeds.mkdir(parents=True, exist_ok=True)
    all_types(data / "gguf-py-all-types.gguf")
    all_types(seeds / "all-types.gguf")
    seed(seeds / "llama-tiny.gguf", GGUFEndian.LITTLE, True)
    seed(seeds / "metadata-only.gguf", GGUFEndian.LITTLE, False)
    seed(seeds / "big-endian.gguf", GGUFEndian.BIG, True)


if __name__ == "__main__":
    main()
