"""Fixtures that run real `lmx serve` processes on 127.0.0.1 (a free port each) and
talk to them with the official `openai` package.

The binary is $LMX_BIN or build/release/bin/lmx; the model is the installed default
(tests skip loudly without it, and fail under CI=1)."""
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]
LMX = Path(os.environ.get("LMX_BIN", ROOT / "build/release/bin/lmx"))
MODEL_HOME = Path(os.environ.get("LMX_HOME", Path.home() / ".cache/lmx/models"))
MODEL = MODEL_HOME / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = MODEL.stem


def require_setup():
    for path, what in ((LMX, "the lmx binary (make build)"), (MODEL, "the default model (scripts/setup.sh)")):
        if not path.exists():
            if os.environ.get("CI"):
                pytest.fail(f"{what} missing at {path}")
            pytest.skip(f"SKIPPED: {what} missing at {path}")


class Server:
    """One `lmx serve` process; its stderr (JSON log lines) is collected in `log`."""

    def __init__(self, *args, model=None):
        require_setup()
        cmd = [str(LMX), "serve", "--port", "0", "-t", "1", "-c", "1024", "--model", str(model or MODEL), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(30):
            self.stop()
            raise RuntimeError("lmx serve did not start: " + "".join(self.log))
        self.url = self._url

    def _read(self):
        for line in self.proc.stderr:
            self.log.append(line)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "listening":
                self._url = event["url"]
                self._listening.set()

    def client(self, api_key="none", **kw):
        return openai.OpenAI(base_url=self.url + "/v1", api_key=api_key, max_retries=0, timeout=120, **kw)

    def events(self, name):
        return [e for e in (json.loads(l) for l in self.log if l.startswith("{")) if e.get("event") == name]

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode


@pytest.fixture(scope="session")
def server():
    """The shared server: 4 slots, a small queue, and everything else default."""
    s = Server("-P", "4", "--max-queue", "16")
    yield s
    assert s.stop() == 0


def wait_until(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class Reply:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.content = status, {k.lower(): v for k, v in headers.items()}, body

    def json(self):
        return json.loads(self.content)


def http(method, url, body=None, headers=None):
    """A plain HTTP request (what the openai client cannot send: bad bodies, OPTIONS...)."""
    import urllib.error
    import urllib.request
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return Reply(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read())
