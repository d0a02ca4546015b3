"""generate() and chat(): greedy text equals the CLI's, streaming pieces add up, sampling
is reproducible by seed, stop strings end generation, closing a stream cancels it."""

import re

import pytest

import lmx
from conftest import run_cli

PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time"]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_generate_equals_cli(default_model: lmx.Model, cli, prompt: str) -> None:
    out = run_cli(cli, "generate", "-p", prompt, "-n", "32", "--temp", "0", "-t", "2").decode()
    assert out.endswith("\n")
    want = out[:-1]  # the CLI ends with a newline
    got = default_model.generate(prompt, max_tokens=32, temperature=0).text()
    assert got == want


def test_streaming_pieces_add_up_to_text(default_model: lmx.Model) -> None:
    g = default_model.generate("List three colors:", max_tokens=24, temperature=0)
    pieces = list(g)
    assert len(pieces) > 1
    assert "".join(pieces) == g.text()
    assert g.done and g.finish_reason in ("stop", "length")
    assert 0 < len(g.tokens) <= 24 and len(g.prompt_tokens) > 0
    assert g.generate_ms > 0 and g.tokens_per_second > 0


def test_sampling_is_reproducible_by_seed(default_model: lmx.Model) -> None:
    kw = dict(max_tokens=16, temperature=0.9, top_k=50, top_p=0.95, min_p=0.02, repeat_penalty=1.1)
    a = default_model.generate("Write a short poem:", seed=7, **kw).text()
    b = default_model.generate("Write a short poem:", seed=7, **kw).text()
    c = default_model.generate("Write a short poem:", seed=8, **kw).text()
    assert a == b
    assert a != c


def test_sampled_generate_equals_cli(default_model: lmx.Model, cli) -> None:
    out = run_cli(cli, "generate", "-p", "Tell me a story", "-n", "20", "--temp", "0.7", "--seed", "42", "-t", "2").decode()
    got = default_model.generate("Tell me a story", max_tokens=20, temperature=0.7, seed=42).text()
    assert got == out[:-1]


def test_stop_string(default_model: lmx.Model) -> None:
    full = default_model.generate("1, 2, 3, 4,", max_tokens=24, temperature=0).text()
    m = re.search(r"\d", full.strip())
    assert m, full
    stop = full[: full.index(m.group(0)) + 1][-1]  # the first digit generated
    g = default_model.generate("1, 2, 3, 4,", max_tokens=24, temperature=0, stop=[stop])
    text = g.text()
    assert text == full[: full.index(stop)]
    assert g.finish_reason == "stop"


def test_close_cancels_and_model_is_reusable(default_model: lmx.Model) -> None:
    g = default_model.generate("Once upon a time", max_tokens=500, temperature=0)
    next(g)
    with pytest.raises(lmx.LmxError, match="busy"):
        default_model.generate("x", max_tokens=1)
    g.close()
    assert len(g.tokens) < 500
    assert default_model.generate("Once upon a time", max_tokens=4, temperature=0).text()


def test_chat_uses_template_and_reuses_prefix(default_model: lmx.Model) -> None:
    msgs = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}]
    first = default_model.chat(msgs, max_tokens=16, temperature=0)
    reply = first.text()
    assert reply.strip()
    opening = default_model.tokenize("<|im_start|>system\nYou are terse.", add_special=False, parse_special=True)
    assert first.prompt_tokens[: len(opening)] == opening  # the template's rendering of the messages
    msgs += [{"role": "assistant", "content": reply}, {"role": "user", "content": "And 3+3?"}]
    second = default_model.chat(msgs, max_tokens=16, temperature=0)
    assert second.text().strip()
    assert second.reused_tokens > len(first.prompt_tokens) // 2


def test_chat_needs_a_final_user_message(default_model: lmx.Model) -> None:
    with pytest.raises(lmx.LmxError, match="user"):
        default_model.chat([{"role": "assistant", "content": "hi"}])
