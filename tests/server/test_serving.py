"""Serving behaviour: auth, overload, disconnects, timeouts, memory refusal, the
fallback upstream and graceful shutdown; each test runs its own `lmx serve`."""
import concurrent.futures
import json
import os
import socket
import threading
import time
import urllib.request

import openai
import pytest

from conftest import MODEL, MODEL_NAME, Server, http, wait_until

LONG = dict(model=MODEL_NAME, prompt="1, 2, 3, 4, 5,", temperature=0)  # counts on for hundreds of tokens


def metric(server, name):
    with urllib.request.urlopen(server.url + "/metrics") as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.split()[-1])
    return None


def test_api_key_is_required_except_for_health():
    s = Server("--api-key", "secret-key")
    try:
        with pytest.raises(openai.AuthenticationError) as e:
            s.client(api_key="wrong-key").models.list()
        assert e.value.status_code == 401 and e.value.body["code"] == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            s.client(api_key="secret-ke").models.list()
        assert [m.id for m in s.client(api_key="secret-key").models.list().data] == [MODEL_NAME]
        assert http("GET", s.url + "/health").status_code == 200
        assert http("GET", s.url + "/metrics").status_code == 401
    finally:
        assert s.stop() == 0


def test_cors_and_request_ids():
    s = Server("--cors-origin", "http://app.example")
    try:
        r = http("OPTIONS", s.url + "/v1/chat/completions", headers={"Origin": "http://app.example"})
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "http://app.example"
        r = http("GET", s.url + "/v1/models", headers={"Origin": "http://evil.example", "X-Request-Id": "abc-123"})
        assert "access-control-allow-origin" not in r.headers and r.headers["x-request-id"] == "abc-123"
        assert wait_until(lambda: any(e.get("request_id") == "abc-123" and e["status"] == 200 for e in s.events("request")))
    finally:
        assert s.stop() == 0


def test_body_too_large_is_413():
    s = Server("--max-body", "1")
    try:
        r = http("POST", s.url + "/v1/completions", b'{"prompt": "' + b"a" * (2 << 20) + b'"}')
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    finally:
        assert s.stop() == 0


def test_full_queue_is_429_with_retry_after_and_a_dropped_stream_frees_its_slot():
    s = Server("-P", "1", "--max-queue", "1")
    try:
        c = s.client()
        stream = c.completions.create(max_tokens=500, stream=True, **LONG)  # takes the slot
        next(iter(stream))
        queued = threading.Thread(target=lambda: c.completions.create(max_tokens=2, **LONG))
        queued.start()
        assert wait_until(lambda: metric(s, "lmx_queue_depth") == 1)
        with pytest.raises(openai.RateLimitError) as e:
            c.completions.create(max_tokens=2, **LONG)
        assert e.value.response.headers["retry-after"] == "1"
        stream.close()  # the client goes away: its slot goes to the queued request at once
        queued.join(60)
        assert not queued.is_alive()
        assert wait_until(lambda: metric(s, "lmx_active_requests") == 0)
    finally:
        assert s.stop() == 0


def test_a_client_that_closes_while_waiting_for_a_whole_answer_frees_its_slot():
    s = Server()
    try:
        body = json.dumps(dict(max_tokens=900, **LONG)).encode()  # several seconds of generation
        host, port = s.url.split("//")[1].rsplit(":", 1)
        conn = socket.create_connection((host, int(port)))
        conn.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert wait_until(lambda: metric(s, "lmx_active_requests") == 1)
        conn.close()
        closed = time.time()
        assert wait_until(lambda: metric(s, "lmx_active_requests") == 0, timeout=2), "the abandoned request kept its slot"
        assert time.time() - closed < 2
        assert s.client().completions.create(max_tokens=2, **LONG).choices[0].finish_reason == "length"
    finally:
        assert s.stop() == 0


def test_generation_timeout_is_504():
    s = Server("--timeout", "2")
    try:
        with pytest.raises(openai.InternalServerError) as e:
            s.client().completions.create(max_tokens=1000, **LONG)
        assert e.value.status_code == 504 and e.value.body["code"] == "timeout"
    finally:
        assert s.stop() == 0


def test_a_model_that_does_not_fit_is_refused_clearly():
    s = Server("--memory-limit", "1")
    try:
        with pytest.raises(openai.InternalServerError) as e:
            s.client().completions.create(model=MODEL_NAME, prompt="hi", max_tokens=2)
        assert e.value.status_code == 503 and "needs about" in e.value.body["message"]
        health = http("GET", s.url + "/health").json()
        assert health["models"][0]["state"] == "failed"
    finally:
        assert s.stop() == 0


def test_several_models_load_lazily_and_evict_the_least_recently_used(tmp_path):
    for name in ("alpha", "beta"):
        os.symlink(MODEL, tmp_path / f"{name}.gguf")
    s = Server("--max-loaded", "1", model=tmp_path)
    try:
        c = s.client()
        assert sorted(m.id for m in c.models.list().data) == ["alpha", "beta"]
        states = lambda: {m["id"]: m["state"] for m in http("GET", s.url + "/health").json()["models"]}
        assert states() == {"alpha": "unloaded", "beta": "unloaded"}
        a = c.completions.create(model="alpha", prompt="Hello", max_tokens=4, temperature=0)
        assert states() == {"alpha": "ready", "beta": "unloaded"}
        b = c.completions.create(model="beta", prompt="Hello", max_tokens=4, temperature=0)
        assert states() == {"alpha": "unloaded", "beta": "ready"}
        assert a.choices[0].text == b.choices[0].text and b.model == "beta"
    finally:
        assert s.stop() == 0


def test_fallback_upstream_serves_what_is_not_local(tmp_path):
    os.symlink(MODEL, tmp_path / "upstream-only.gguf")
    upstream = Server("--api-key", "up-key", model=tmp_path / "upstream-only.gguf")
    front = Server("--fallback-url", upstream.url + "/v1", "--fallback-key", "up-key")
    try:
        c = front.client()
        r = c.completions.with_raw_response.create(model="upstream-only", prompt="Hello", max_tokens=6, temperature=0)
        assert r.headers["x-lmx-served-by"] == "fallback"
        direct = upstream.client(api_key="up-key").completions.create(model="upstream-only", prompt="Hello", max_tokens=6, temperature=0)
        assert r.parse().choices[0].text == direct.choices[0].text
        local = c.completions.with_raw_response.create(model=MODEL_NAME, prompt="Hello", max_tokens=2, temperature=0)
        assert local.headers["x-lmx-served-by"] == "local"
        with c.chat.completions.with_streaming_response.create(
                model="upstream-only", messages=[{"role": "user", "content": "Hi"}], max_tokens=6, temperature=0, stream=True) as r:
            assert r.headers["x-lmx-served-by"] == "fallback"
            text = "".join(ch.choices[0].delta.content or "" for ch in r.parse() if ch.choices)
        direct = upstream.client(api_key="up-key").chat.completions.create(
            model="upstream-only", messages=[{"role": "user", "content": "Hi"}], max_tokens=6, temperature=0)
        assert text == direct.choices[0].message.content
        # The upstream's own errors come back as they are.
        with pytest.raises(openai.NotFoundError):
            c.completions.create(model="nowhere", prompt="x", max_tokens=1)
    finally:
        assert front.stop() == 0
        assert upstream.stop() == 0


def test_sigterm_lets_in_flight_requests_finish_then_exits_0():
    s = Server("--grace", "60")
    c = s.client()
    stream = c.completions.create(max_tokens=200, stream=True, **LONG)
    first = next(iter(stream))
    s.terminate()
    assert wait_until(lambda: s.events("draining"))
    with pytest.raises((openai.APIStatusError, openai.APIConnectionError)):
        c.completions.create(model=MODEL_NAME, prompt="late", max_tokens=2)
    rest = list(stream)
    assert rest[-1].choices[0].finish_reason == "length"
    assert len("".join(ch.choices[0].text for ch in [first, *rest])) > 0
    assert s.proc.wait(60) == 0
    with pytest.raises(OSError):
        socket.create_connection(s.url.removeprefix("http://").split(":"), timeout=2)


def test_sigterm_cancels_what_outlives_the_grace_period():
    s = Server("--grace", "1")
    c = s.client()
    stream = c.completions.create(max_tokens=900, stream=True, **LONG)
    next(iter(stream))
    s.terminate()
    with pytest.raises(openai.APIError):
        list(stream)  # the stream ends with an error event: the server is shutting down
    assert s.proc.wait(60) == 0
