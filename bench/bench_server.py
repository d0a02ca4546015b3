#!/usr/bin/env python3
"""Load test of `lmx serve` (continuous batching) vs llama-cpp-python's OpenAI server on
the same GGUF model and thread count: aggregate generated tokens/s at 1, 4 and 8
concurrent streams, time to first token p50/p99, and failed requests.

Bounded: each level sends `--rounds` requests per stream (default 2; more at low levels, so
every level asks for at least `--min-tokens`, default 1024) of `--tokens` tokens (default 64), greedy chat completions asking for long stories on distinct
topics. Then, lmx only, a soak: 16 streams (twice the slots, so requests queue) sending
240 requests of 16 tokens: failures, RSS before and after, requests left behind. Tokens are counted from the streamed chunks (one token each on both
servers: no stop strings are used).

    .venv/bin/python bench/bench_server.py --lmx build/release/bin/lmx [--threads 2] [--levels 1,4,8] [--no-peer]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

DEFAULT_MODEL = os.path.join(os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")),
                             "SmolLM2-135M-Instruct.Q4_1.gguf")
TOPICS = ["the sea", "a robot", "mountains", "the moon", "a city at night", "bread", "rivers", "winter",
          "an old library", "trains", "music", "a garden", "the desert", "clocks", "bees", "the wind"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=2) as r:
                return json.loads(r.read())["data"][0]["id"]
        except OSError:
            time.sleep(0.2)
    sys.exit(f"server at {url} did not come up")


def start_lmx(lmx, model, threads, slots, ctx):
    port = free_port()
    proc = subprocess.Popen([lmx, "serve", "--model", model, "--port", str(port), "-t", str(threads), "-P", str(slots),
                             "-c", str(ctx)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    return proc, url, wait_ready(url, proc)


def start_llama_cpp(model, threads, slots, ctx):
    port = free_port()
    # llama-cpp-python's server decodes one request at a time (no continuous batching); by
    # default a new request interrupts the running one, so it is told to queue them instead.
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model, "--port", str(port),
                             "--n_threads", str(threads), "--n_ctx", str(ctx), "--interrupt_requests", "False"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    return proc, url, wait_ready(url, proc)


def one_stream(url, model, prompt, n_tokens, completions):
    """One streamed request read straight off the socket (http.client, one json.loads a
    chunk): a client this light leaves the shared cores to the server, and its per-chunk
    latency does not cap the single stream (the openai package's did, at ~300 tok/s)."""
    if completions:  # models without a chat template (Gemma 3's GGUF here has none)
        path, body = "/v1/completions", {"prompt": prompt + "\n\n"}
    else:
        path, body = "/v1/chat/completions", {"messages": [{"role": "user", "content": prompt}]}
    body.update(model=model, max_tokens=n_tokens, temperature=0, stream=True)
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    t0 = time.perf_counter()
    ttft, tokens = None, 0
    conn = http.client.HTTPConnection(host, port, timeout=600)
    try:
        conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
        for line in r:
            if not line.startswith(b"data: {"):
                continue
            choices = json.loads(line[6:]).get("choices")
            if choices and (choices[0].get("text") if completions else choices[0].get("delta", {}).get("content")):
                tokens += 1
                if ttft is None:
                    ttft = time.perf_counter() - t0
    finally:
        conn.close()
    return tokens, ttft


def level(url, model, streams, rounds, n_tokens, completions):
    prompts = [f"Write a long, detailed story about {TOPICS[i % len(TOPICS)]}." for i in range(streams * rounds)]
    ttfts, tokens, failed = [], 0, 0
    lock = threading.Lock()

    def worker(k):
        nonlocal tokens, failed
        for r in range(rounds):
            try:
                n, ttft = one_stream(url, model, prompts[k * rounds + r], n_tokens, completions)
                with lock:
                    tokens += n
                    if n == 0:
                        failed += 1  # an empty answer counts as a failure
                    else:
                        ttfts.append(ttft)
            except (OSError, RuntimeError, ValueError):
                with lock:
                    failed += 1

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(streams) as pool:
        list(pool.map(worker, range(streams)))
    wall = time.perf_counter() - t0
    ttfts.sort()
    pct = lambda q: ttfts[min(len(ttfts) - 1, int(q * len(ttfts)))] if ttfts else float("nan")
    return {"streams": streams, "tok_s": tokens / wall, "ttft_p50_ms": 1000 * statistics.median(ttfts) if ttfts else float("nan"),
            "ttft_p99_ms": 1000 * pct(0.99), "tokens": tokens, "failed": failed, "wall_s": wall}


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS:"))


def live_requests(url):
    """lmx only: requests still running or queued, from /metrics (0 after a load: no leaked slots)."""
    with urllib.request.urlopen(url + "/metrics") as r:
        lines = r.read().decode().splitlines()
    return sum(float(l.split()[-1]) for l in lines if l.startswith(("lmx_active_requests{", "lmx_queue_depth{")))


def run(name, start, args, levels):
    proc, url, model = start()
    try:
        level(url, model, 1, 1, 8, args.completions)  # warm-up: loads the model, faults the weights in
        rss0 = rss_mib(proc.pid)
        results = [level(url, model, n, max(args.rounds, -(-args.min_tokens // (n * args.tokens))), args.tokens, args.completions)
                   for n in levels]
        rss1 = rss_mib(proc.pid)
        soak = None
        if name == "lmx" and args.soak_requests > 0:  # more streams than slots: the queue works too
            rounds = max(1, args.soak_requests // args.soak_streams)
            soak = level(url, model, args.soak_streams, rounds, 16, args.completions)
            rss2 = rss_mib(proc.pid)
        live = live_requests(url) if name == "lmx" else 0
    finally:
        proc.terminate()
        proc.wait(60)
    print(f"{name:>10}  RSS {rss0} MiB after warm-up, {rss1} MiB after the load" +
          (f"; {live:.0f} requests left running or queued" if name == "lmx" else ""))
    if soak:
        print(f"{name:>10}  soak: {soak['streams']} streams, {soak['streams'] * rounds} requests of 16 tokens in {soak['wall_s']:.1f} s, "
              f"{soak['failed']} failed, RSS {rss1} -> {rss2} MiB, TTFT p99 {soak['ttft_p99_ms']:.0f} ms")
    for r in results:
        print(f"{name:>10}  {r['streams']:>2} streams  {r['tok_s']:7.1f} tok/s  TTFT p50 {r['ttft_p50_ms']:7.0f} ms  "
              f"p99 {r['ttft_p99_ms']:7.0f} ms  {r['tokens']} tokens  {r['failed']} failed", flush=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lmx", default="build/release/bin/lmx")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--levels", default="1,4,8")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--min-tokens", type=int, default=1024, help="tokens each level asks for at least")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--completions", action="store_true", help="/v1/completions with a plain prompt (a model without a chat template)")
    ap.add_argument("--no-peer", action="store_true", help="skip llama-cpp-python's server")
    ap.add_argument("--soak-streams", type=int, default=16, help="lmx only, after the levels: streams of the bounded load test")
    ap.add_argument("--soak-requests", type=int, default=240, help="its requests (0: none)")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    slots, ctx = max(levels), 1024
    lmx = run("lmx", lambda: start_lmx(args.lmx, args.model, args.threads, slots, ctx), args, levels)
    one = lmx[0]["tok_s"] if lmx[0]["streams"] == 1 else None
    if one:
        for r in lmx[1:]:
            print(f"lmx: {r['streams']} streams = {r['tok_s'] / one:.2f}x the single-stream rate")
    if args.no_peer:
        return
    try:
        import llama_cpp.server  # noqa: F401  (the extras: fastapi, uvicorn, sse-starlette)
    except ImportError:
        print("llama-cpp-python[server] is not installed (scripts/setup.sh --peers): peer skipped")
        return
    peer = run("llama.cpp", lambda: start_llama_cpp(args.model, args.threads, slots, ctx), args, levels)
    for a, b in zip(lmx, peer):
        if b["tok_s"] > 0:
            print(f"{a['streams']} streams: lmx / llama.cpp server = {a['tok_s'] / b['tok_s']:.2f}x")


if __name__ == "__main__":
    main()
