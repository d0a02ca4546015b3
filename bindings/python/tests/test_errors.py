"""C++ errors arrive as lmx.LmxError (a RuntimeError) carrying the core's message."""

import pytest

import lmx


def test_missing_file(tmp_path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    with pytest.raises(lmx.LmxError, match="no-such-model.gguf") as e:
        lmx.Model(missing)
    assert isinstance(e.value, RuntimeError)


def test_not_a_gguf_file(tmp_path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(lmx.LmxError):
        lmx.Model(bad)


def test_missing_embedding_folder_file(tmp_path) -> None:
    with pytest.raises(lmx.LmxError, match="model.safetensors|config.json"):
        lmx.Model(tmp_path)  # a folder without a model in it


def test_bad_arguments(default_model: lmx.Model) -> None:
    with pytest.raises(lmx.LmxError, match="outside the vocabulary"):
        default_model.detokenize([default_model.n_vocab + 5])
    with pytest.raises(lmx.LmxError, match="top_p"):
        default_model.generate("x", top_p=1.5)
    with pytest.raises(lmx.LmxError, match="embedding model"):
        default_model.embed(["x"])
    with pytest.raises(lmx.LmxError, match="no tokens"):
        default_model.logprobs("", add_special=False)


def test_prompt_longer_than_context() -> None:
    m = lmx.Model(n_ctx=16, n_threads=1)
    g = m.generate("word " * 40, max_tokens=4)
    with pytest.raises(lmx.LmxError, match="context"):
        g.text()
    # the model is free again after the failure
    assert m.generate("Hi", max_tokens=2, temperature=0).text() is not None
