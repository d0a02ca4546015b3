"""logprobs(): numpy shapes and dtypes, a normalized distribution, and the CLI's numbers."""

import json

import numpy as np

import lmx
from conftest import run_cli

TEXT = "The capital of France is Paris."


def test_shapes_and_normalization(default_model: lmx.Model) -> None:
    n_vocab = default_model.n_vocab
    r = default_model.logprobs(TEXT, top=n_vocab)
    n = len(default_model.tokenize(TEXT))
    assert r.ids.dtype == np.int32 and r.ids.shape == (n,)
    assert r.logprob.dtype == np.float64 and r.logprob.shape == (n - 1,)
    assert r.top_ids.shape == (n - 1, n_vocab) and r.top_logprob.shape == (n - 1, n_vocab)
    assert list(r.ids) == default_model.tokenize(TEXT)
    # the whole vocabulary: probabilities sum to one, sorted, each token's own entry agrees
    total = np.exp(r.top_logprob).sum(axis=1)
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)
    assert np.all(np.diff(r.top_logprob, axis=1) <= 0)
    for i in range(n - 1):
        row = r.top_logprob[i]
        assert row[np.where(r.top_ids[i] == r.ids[i + 1])[0][0]] == r.logprob[i]
    assert np.all(r.logprob <= 0)
    assert r.total_bits > 0


def test_top_k_and_empty(default_model: lmx.Model) -> None:
    r = default_model.logprobs("Hello", top=3)
    assert r.top_ids.shape[1] == 3
    r0 = default_model.logprobs("Hello world")
    assert r0.top_ids.shape == (len(r0.ids) - 1, 0)


def test_matches_cli(default_model: lmx.Model, cli) -> None:
    out = json.loads(run_cli(cli, "logprobs", TEXT, "--top", "2", "--json", "-t", "2"))
    r = default_model.logprobs(TEXT, top=2)
    assert out["first_token"] == r.ids[0]
    assert [t["id"] for t in out["tokens"]] == list(r.ids[1:])
    np.testing.assert_allclose([t["logprob"] for t in out["tokens"]], r.logprob, atol=1e-3)
    assert [[a["id"] for a in t["top"]] for t in out["tokens"]] == r.top_ids.tolist()


def test_deterministic_mode_is_bit_stable(default_model: lmx.Model) -> None:
    a = default_model.logprobs(TEXT, deterministic=True)
    b = default_model.logprobs(TEXT, deterministic=True)
    assert np.array_equal(a.logprob, b.logprob)
