"""embed(): float32 vectors at cosine >= 0.9999 of the sentence-transformers reference
(tests/goldens/embeddings, tools/gen_embedding_goldens.py), pooling and normalization."""

import json
import os

import numpy as np
import pytest

import lmx
from conftest import GOLDENS

N = 64  # of the 520 golden sentences (the C++ test covers all)


def test_matches_reference_vectors(embed_model: lmx.Model) -> None:
    d = GOLDENS / "embeddings" / "all-minilm-l6-v2"
    texts = [json.loads(line) for line in (d / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    want = np.fromfile(d / "vectors.f16", dtype="<f2").reshape(len(texts), -1).astype(np.float64)
    got = embed_model.embed(texts[:N])
    assert got.dtype == np.float32 and got.shape == (N, want.shape[1]) == (N, 384)
    g = got.astype(np.float64)
    cos = (g * want[:N]).sum(1) / np.linalg.norm(g, axis=1) / np.linalg.norm(want[:N], axis=1)
    assert cos.min() >= 0.9999, f"worst cosine {cos.min()} at {cos.argmin()}: {texts[int(cos.argmin())]!r}"


def test_normalize_and_pooling(embed_model: lmx.Model) -> None:
    texts = ["a sentence about cats", "another one about the stock market"]
    v = embed_model.embed(texts)  # the model folder says: mean pooling, normalized
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    raw = embed_model.embed(texts, normalize=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), v, atol=1e-6)
    cls = embed_model.embed(texts, pooling="cls")
    assert not np.allclose(cls, v)
    with pytest.raises(lmx.LmxError, match="pooling"):
        embed_model.embed(texts, pooling="max")


def test_single_string_and_info(embed_model: lmx.Model) -> None:
    assert embed_model.kind == "encoder"
    assert embed_model.embed("one text").shape == (1, 384)
    assert embed_model.embed([]).shape == (0, 384)
    info = embed_model.info()
    assert info["dims"] == 384 and info["pooling"] == "mean"
    assert embed_model.tokenize("hello world")[0] == 101  # [CLS]


@pytest.mark.parametrize("name,golden,min_cos", [
    # the q8_0 GGUF scripts/setup.sh writes (models/derived.tsv), against llama.cpp's vectors
    ("all-minilm-l6-v2.q8_0.gguf", "all-minilm-l6-v2.q8_0", 0.999),
    # the int8 ONNX export setup installs (models/registry.tsv), against onnxruntime's
    # (f32 products there, bf16 here where the CPU has them: the bar)
    ("all-minilm-l6-v2-int8", "all-minilm-l6-v2.int8-onnx", 0.9999),
])
def test_gguf_and_onnx_encoders_match_their_peers(name: str, golden: str, min_cos: float) -> None:
    path = os.path.join(lmx.model_home(), name)
    if not os.path.exists(path):
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} not installed (scripts/setup.sh)")
    m = lmx.Model(name, n_threads=2)
    assert m.kind == "encoder" and m.info()["dims"] == 384
    texts = [json.loads(line) for line in (GOLDENS / "embeddings/all-minilm-l6-v2/sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    want = np.fromfile(GOLDENS / "embeddings" / golden / "vectors.f16", dtype="<f2").reshape(len(texts), -1)
    got = m.embed(texts[:N]).astype(np.float64)
    cos = (got * want[:N]).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want[:N].astype(np.float64), axis=1)
    assert cos.min() >= min_cos, f"worst cosine {cos.min()} at {cos.argmin()}"
