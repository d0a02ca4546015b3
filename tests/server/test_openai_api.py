"""The OpenAI API surface of `lmx serve`, driven by the official `openai` client.

Greedy text is compared with `lmx generate --temp 0` (whose output matches llama.cpp,
tests/runtime/test_llama_goldens.cpp): a completion must be exactly that text, streamed
or not, alone or among concurrent streams."""
import concurrent.futures
import json
import subprocess
import urllib.request

import openai
import pytest

from conftest import LMX, MODEL, MODEL_NAME, http

PROMPTS = ["The capital of France is", "Write a haiku about the sea.", "1, 2, 3, 4,", "Once upon a time, a small robot"]


def generate_alone(prompt, n):
    out = subprocess.run([str(LMX), "generate", "-m", str(MODEL), "-p", prompt, "-n", str(n), "--temp", "0", "-t", "1"],
                         capture_output=True, text=True, check=True).stdout
    assert out.endswith("\n")
    return out[:-1]


def post(url, body):
    r = http("POST", url, body)
    return r.status_code, r.headers, r.json()


def test_completion_is_the_greedy_text_with_exact_usage(server):
    c = server.client()
    r = c.completions.create(model=MODEL_NAME, prompt=PROMPTS[0], max_tokens=12, temperature=0)
    assert r.object == "text_completion" and r.model == MODEL_NAME
    assert r.choices[0].text == generate_alone(PROMPTS[0], 12)
    assert r.choices[0].finish_reason == "length"
    tokens = post(server.url + "/tokenize", {"content": PROMPTS[0]})[2]["tokens"]
    assert r.usage.prompt_tokens == len(tokens)
    assert r.usage.completion_tokens == 12
    assert r.usage.total_tokens == len(tokens) + 12


def test_streamed_completion_equals_the_whole_one(server):
    c = server.client()
    # PROMPTS[3]: its greedy text runs past 10 tokens on every ISA (the haiku prompt's first
    # token is a near-tie with the end of text, decided one way by the scalar path, the
    # other way by the SIMD ones)
    whole = c.completions.create(model=MODEL_NAME, prompt=PROMPTS[3], max_tokens=10, temperature=0)
    chunks = list(c.completions.create(model=MODEL_NAME, prompt=PROMPTS[3], max_tokens=10, temperature=0, stream=True,
                                       stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].text for ch in chunks if ch.choices)
    assert text == whole.choices[0].text
    finals = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finals == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 10
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens


def test_chat_uses_the_template_and_streams_the_same_text(server):
    c = server.client()
    msgs = [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "What color is the sky?"}]
    whole = c.chat.completions.create(model=MODEL_NAME, messages=msgs, max_tokens=16, temperature=0)
    assert whole.object == "chat.completion"
    msg = whole.choices[0].message
    assert msg.role == "assistant" and msg.content
    assert whole.choices[0].finish_reason in ("stop", "length")
    # The prompt is the template's rendering: tokenizing it gives the reported prompt tokens.
    rendered = ("<|im_start|>system\nAnswer in one word.<|im_end|>\n<|im_start|>user\nWhat color is the sky?<|im_end|>\n"
                "<|im_start|>assistant\n")
    tokens = post(server.url + "/tokenize", {"content": rendered, "add_special": False})[2]["tokens"]
    assert whole.usage.prompt_tokens == len(tokens)
    stream = c.chat.completions.create(model=MODEL_NAME, messages=msgs, max_tokens=16, temperature=0, stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks) == msg.content
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


def test_stop_strings_cut_the_text(server):
    c = server.client()
    full = c.completions.create(model=MODEL_NAME, prompt=PROMPTS[2], max_tokens=12, temperature=0).choices[0].text
    stop = full[6:9]
    r = c.completions.create(model=MODEL_NAME, prompt=PROMPTS[2], max_tokens=12, temperature=0, stop=[stop, "never"])
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].text == full[:full.index(stop)]


def test_logprobs_and_seeded_sampling(server):
    c = server.client()
    r = c.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": "Say hi"}], max_tokens=5,
                                  temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for t in content:
        assert len(t.top_logprobs) == 3 and t.top_logprobs[0].token == t.token
        assert t.logprob == pytest.approx(t.top_logprobs[0].logprob) and t.logprob <= 0
    assert "".join(t.token for t in content) == r.choices[0].message.content
    kw = dict(model=MODEL_NAME, prompt=PROMPTS[3], max_tokens=12, temperature=1.0, top_p=0.95, seed=7,
              presence_penalty=0.5, frequency_penalty=0.5)
    a, b = c.completions.create(**kw).choices[0].text, c.completions.create(**kw).choices[0].text
    assert a == b, "the same seed gives the same text"


def test_concurrent_greedy_streams_match_each_alone(server):
    c = server.client()
    alone = {p: generate_alone(p, 16) for p in PROMPTS}

    def stream(p):
        chunks = c.completions.create(model=MODEL_NAME, prompt=p, max_tokens=16, temperature=0, stream=True)
        return "".join(ch.choices[0].text for ch in chunks if ch.choices)

    with concurrent.futures.ThreadPoolExecutor(len(PROMPTS)) as pool:
        got = dict(zip(PROMPTS, pool.map(stream, PROMPTS)))
    assert got == alone


def test_errors_have_openai_shape_and_status(server):
    c = server.client()
    with pytest.raises(openai.NotFoundError) as e:
        c.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model=MODEL_NAME, prompt="x", temperature="hot")
    assert e.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model=MODEL_NAME, prompt="word " * 1100, max_tokens=4)
    assert e.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError):
        c.completions.create(model=MODEL_NAME, prompt="x", max_tokens=2000)  # prompt + max_tokens > context
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": "hi"}], n=2)
    assert e.value.body["param"] == "n"
    status, _, body = post(server.url + "/v1/chat/completions", b'{"messages": [')
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, _, body = post(server.url + "/v1/chat/completions", b"[" * 100000 + b"]" * 100000)
    assert status == 400 and "error" in body
    status, _, body = post(server.url + "/v1/nothing", {})
    assert status == 404 and "error" in body
    status, _, body = post(server.url + "/detokenize", {"tokens": [10**9]})
    assert status == 400


def test_models_health_tokenize_metrics(server):
    c = server.client()
    assert [m.id for m in c.models.list().data] == [MODEL_NAME]
    with urllib.request.urlopen(server.url + "/health") as r:
        health = json.loads(r.read())
    assert health["status"] == "ok" and health["models"][0]["state"] == "ready"
    status, _, tok = post(server.url + "/tokenize", {"content": "hello world", "with_pieces": True})
    assert status == 200 and "".join(t["piece"] for t in tok["tokens"]) == "hello world"
    ids = [t["id"] for t in tok["tokens"]]
    assert post(server.url + "/detokenize", {"tokens": ids})[2]["content"] == "hello world"
    with urllib.request.urlopen(server.url + "/metrics") as r:
        metrics = r.read().decode()
    for name in ("lmx_requests_total{", "lmx_completion_tokens_total{", "lmx_time_to_first_token_seconds_bucket",
                 "lmx_request_duration_seconds_count", "lmx_queue_depth{", "lmx_kv_cache_tokens{"):
        assert name in metrics, name
    assert f'lmx_active_requests{{model="{MODEL_NAME}"}} 0' in metrics
