"""Token ids against the committed tokenizer goldens (llama.cpp's, tools/gen_tokenizer_goldens.py)
and the `lmx tokenize` CLI."""

import json

import lmx
from conftest import GOLDENS, run_cli


def test_tokenize_matches_llama_cpp_goldens(default_model: lmx.Model) -> None:
    golden = json.loads((GOLDENS / "tokenizer" / "smollm2.json").read_text(encoding="utf-8"))
    assert default_model.n_vocab == golden["n_vocab"]
    cases = golden["cases"]
    assert len(cases) > 50
    bad = []
    for c in cases:
        got = default_model.tokenize(c["text"], add_special=c["add_special"], parse_special=c["parse_special"])
        if got != c["ids"]:
            bad.append((c["text"][:40], c["add_special"], c["parse_special"], got[:10], c["ids"][:10]))
    assert not bad, f"{len(bad)} of {len(cases)} cases differ, first: {bad[:3]}"


def test_tokenize_matches_cli(default_model: lmx.Model, cli) -> None:
    for text in ["Hello world", "  leading spaces\tand tabs\n", "caf\u00e9 \U0001F600 \u4e2d\u6587", "<|im_start|>user"]:
        # the CLI's default: BOS/EOS and special-token text; --no-special: neither
        ids = [int(t) for t in run_cli(cli, "tokenize", text).decode().split()]
        assert default_model.tokenize(text, add_special=True, parse_special=True) == ids, text
        ids = [int(t) for t in run_cli(cli, "tokenize", "--no-special", text).decode().split()]
        assert default_model.tokenize(text, add_special=False, parse_special=False) == ids, text


def test_detokenize_round_trips_text(default_model: lmx.Model) -> None:
    text = "The quick brown fox, caf\u00e9 \U0001F600 \u4e2d\u6587.\n"
    assert default_model.detokenize(default_model.tokenize(text, add_special=False)) == text
    assert default_model.detokenize([]) == ""


def test_special_tokens(default_model: lmx.Model) -> None:
    parsed = default_model.tokenize("<|im_start|>", add_special=False, parse_special=True)
    assert len(parsed) == 1
    assert len(default_model.tokenize("<|im_start|>", add_special=False, parse_special=False)) > 1
