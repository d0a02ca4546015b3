"""POST /v1/embeddings with the official client: the vectors equal the
sentence-transformers goldens (tests/goldens/embeddings, committed by the embeddings
work), as floats and as base64; a BERT GGUF file's equal llama.cpp's."""
import base64
import json
import os
import struct

import numpy as np
import openai
import pytest

from conftest import MODEL_HOME, ROOT, Server

EMBEDDER = MODEL_HOME / "all-minilm-l6-v2"
GOLDENS = ROOT / "tests/goldens/embeddings/all-minilm-l6-v2"


@pytest.fixture(scope="module")
def embed_server():
    if not EMBEDDER.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"embedding model missing at {EMBEDDER}")
        pytest.skip(f"SKIPPED: embedding model missing at {EMBEDDER} (scripts/setup.sh)")
    s = Server("--embedding-model", str(EMBEDDER))
    yield s
    assert s.stop() == 0


def goldens(n):
    sentences = [json.loads(line) for line in GOLDENS.joinpath("sentences.jsonl").read_text().splitlines()[:n]]
    vectors = np.fromfile(GOLDENS / "vectors.f16", dtype="<f2").astype(np.float32).reshape(-1, 384)[:n]
    return sentences, vectors


def test_vectors_match_sentence_transformers(embed_server):
    sentences, expected = goldens(6)
    c = embed_server.client()
    r = c.embeddings.create(model="all-minilm-l6-v2", input=sentences, encoding_format="float")
    assert r.model == "all-minilm-l6-v2" and [d.index for d in r.data] == list(range(6))
    got = np.array([d.embedding for d in r.data], dtype=np.float32)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-3)
    assert r.usage.prompt_tokens == r.usage.total_tokens > 6
    # base64: the same float32 values, little-endian
    b = c.embeddings.create(model="all-minilm-l6-v2", input=sentences[0], encoding_format="base64")
    raw = base64.b64decode(b.data[0].embedding) if isinstance(b.data[0].embedding, str) else None
    decoded = np.array(struct.unpack(f"<{len(raw) // 4}f", raw)) if raw else np.array(b.data[0].embedding)
    np.testing.assert_array_equal(decoded.astype(np.float32), got[0])


def test_embedding_errors(embed_server):
    c = embed_server.client()
    with pytest.raises(openai.NotFoundError):
        c.embeddings.create(model="nope", input="x")
    with pytest.raises(openai.BadRequestError) as e:
        c.embeddings.create(model="all-minilm-l6-v2", input=[])
    assert e.value.body["param"] == "input"
    assert "all-minilm-l6-v2" in [m.id for m in c.models.list().data]


# (path under MODEL_HOME, the model name the server gives it, golden folder, worst cosine allowed)
DERIVED_MODELS = [
    # a GGUF encoder is named by its file stem; its vectors are llama.cpp's
    ("all-minilm-l6-v2.q8_0.gguf", "all-minilm-l6-v2.q8_0", "all-minilm-l6-v2.q8_0", 0.999),
    # an ONNX export's folder is named by the folder; its vectors are onnxruntime's (f32 products there,
    # bf16 here: the bar)
    ("all-minilm-l6-v2-int8", "all-minilm-l6-v2-int8", "all-minilm-l6-v2.int8-onnx", 0.9999),
]


@pytest.mark.parametrize("file,name,golden,min_cos", DERIVED_MODELS)
def test_gguf_and_onnx_embedding_models(file, name, golden, min_cos):
    path = MODEL_HOME / file
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing")
        pytest.skip(f"SKIPPED: {path} not installed (scripts/setup.sh)")
    s = Server("--embedding-model", str(path))
    try:
        sentences, _ = goldens(4)
        r = s.client().embeddings.create(model=name, input=sentences, encoding_format="float")
        got = np.array([d.embedding for d in r.data], dtype=np.float64)
        want = np.fromfile(ROOT / "tests/goldens/embeddings" / golden / "vectors.f16", dtype="<f2").astype(np.float64).reshape(-1, 384)[:4]
        cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
        assert cos.min() >= min_cos
    finally:
        assert s.stop() == 0
