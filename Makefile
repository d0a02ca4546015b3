# The front door. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
JOBS ?= 2
PROMPT ?= The three most useful things to know about the ocean are
LMX := build/release/bin/lmx

.PHONY: run test build setup bench test-release test-asan test-server fuzz clean

setup:
	@scripts/setup.sh

build: setup
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

run: build
	$(LMX) generate -p "$(PROMPT)" -n 96 --seed 1

test: build test-release test-asan fuzz test-server

test-release:
	ctest --preset release -j $(JOBS)

# lmx serve driven by the official openai client (tests/server).
test-server: build
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/server

test-asan: setup
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# Every parser's fuzz target, briefly, on its seed corpus (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 20
fuzz: setup
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	fuzz/run.sh $(FUZZ_SECONDS) build/fuzz

bench: build
	@scripts/setup.sh --peers
	.venv/bin/python bench/bench.py --lmx $(LMX)
	.venv/bin/python bench/bench_tokenizer.py --lmx $(LMX)
	.venv/bin/python bench/bench_compress.py --lmx $(LMX) $(wildcard bench/texts/*.txt bench/texts/*.c bench/texts/*.json bench/texts/*.log)

clean:
	rm -rf build
