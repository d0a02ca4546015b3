"""compress() / decompress(): byte-exact round trips of every kind of input, and the same
container format as `lmx compress` in both directions."""

import random

import pytest

import lmx
from conftest import run_cli, seq_1_to

CASES = {
    "empty": b"",
    "one byte": b"a",
    "one NUL byte": b"\x00",
    "random binary": bytes(random.Random(3).getrandbits(8) for _ in range(300)),
    "invalid UTF-8": b"caf\xc3\xa9 \xff\xfe half \xe2\x82 \xc3 end\x80",
    "special-token text": b"<|im_start|>user\nhi<|im_end|>\n\t\r\n \x01 \xf0\x9f\x98\x80",
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip(default_model: lmx.Model, name: str) -> None:
    data = CASES[name]
    blob = lmx.compress(data, default_model, chunk_bytes=256)
    assert isinstance(blob, bytes)
    assert lmx.decompress(blob, default_model) == data


def test_round_trip_seq_1_1000_and_it_compresses(default_model: lmx.Model) -> None:
    data = seq_1_to(1000)
    assert len(data) == 3893
    blob = lmx.compress(data, default_model, chunk_bytes=1024)
    assert len(blob) < len(data) // 4, f"{len(blob)} bytes for {len(data)}"
    assert lmx.decompress(blob, default_model) == data


def test_accepts_bytearray_and_memoryview_and_model_path(default_model: lmx.Model) -> None:
    blob = lmx.compress(bytearray(b"hello world"), default_model)
    assert lmx.decompress(memoryview(blob), default_model.path) == b"hello world"
    with pytest.raises(TypeError):
        lmx.compress("text", default_model)  # type: ignore[arg-type]


def test_cli_blob_decompresses_in_python(default_model: lmx.Model, cli, tmp_path) -> None:
    data = seq_1_to(100) + b"\xff\x00 binary tail"
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    blob = run_cli(cli, "compress", "-q", "--chunk", "512", str(src))
    assert lmx.decompress(blob, default_model) == data


def test_python_blob_decompresses_in_cli(default_model: lmx.Model, cli, tmp_path) -> None:
    data = "Alice was beginning to get very tired of sitting by her sister on the bank.\n".encode() * 3
    blob = lmx.compress(data, default_model)
    packed = tmp_path / "in.lmx"
    packed.write_bytes(blob)
    assert run_cli(cli, "decompress", "-q", str(packed)) == data
    # the same bytes as the CLI writes for the same input and chunk size
    src = tmp_path / "in.txt"
    src.write_bytes(data)
    assert run_cli(cli, "compress", "-q", str(src)) == blob


def test_corrupt_blob_raises(default_model: lmx.Model) -> None:
    blob = bytearray(lmx.compress(b"some text to compress, long enough to matter", default_model))
    blob[-3] ^= 0x40
    with pytest.raises(lmx.LmxError):
        lmx.decompress(bytes(blob), default_model)
    with pytest.raises(lmx.LmxError):
        lmx.decompress(b"not an lmx container", default_model)
    with pytest.raises(lmx.LmxError):
        lmx.decompress(bytes(blob[: len(blob) // 2]), default_model)
