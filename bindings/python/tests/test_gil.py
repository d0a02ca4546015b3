"""Compute runs with the GIL released: a Python thread keeps counting while the model
works, and two models generate at once on two threads."""

import threading
import time

import lmx


def count_while(fn) -> tuple[int, float]:
    stop = threading.Event()
    ticks = [0]

    def counter() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    t = threading.Thread(target=counter)
    t.start()
    t0 = time.perf_counter()
    try:
        fn()
    finally:
        elapsed = time.perf_counter() - t0
        stop.set()
        t.join()
    return ticks[0], elapsed


def test_thread_progresses_during_generate(default_model: lmx.Model) -> None:
    ticks, elapsed = count_while(lambda: default_model.generate("Once upon a time", max_tokens=48, temperature=0).text())
    # a counter that sleeps 1 ms ticks hundreds of times a second when it gets the GIL
    # (over 100/s even on a loaded machine); with the GIL held through the call it would
    # tick a handful of times at most
    assert elapsed > 0.1
    assert ticks > 20 * elapsed, f"{ticks} ticks in {elapsed:.2f} s"


def test_thread_progresses_during_one_long_call(default_model: lmx.Model) -> None:
    data = b"The quick brown fox jumps over the lazy dog. " * 12
    ticks, elapsed = count_while(lambda: lmx.compress(data, default_model, workers=1, threads=1))
    assert elapsed > 0.1
    assert ticks > 20 * elapsed, f"{ticks} ticks in {elapsed:.2f} s"


def test_two_models_generate_concurrently(default_model: lmx.Model) -> None:
    other = lmx.Model(default_model.path, n_threads=1)
    want = other.generate("Hello", max_tokens=16, temperature=0).text()
    results: dict[int, str] = {}

    def run(i: int) -> None:
        results[i] = other.generate("Hello", max_tokens=16, temperature=0).text() if i == 0 else \
            default_model.generate("Hello", max_tokens=16, temperature=0).text()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {0: want, 1: want}
