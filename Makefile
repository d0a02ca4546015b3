# The front door. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
JOBS ?= 2
PROMPT ?= The three most useful things to know about the ocean are
LMX := build/release/bin/lmx

.PHONY: run test build setup bench test-release test-asan test-server test-python test-js fuzz clean

setup:
	@scripts/setup.sh

build: setup
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

run: build
	$(LMX) generate -p "$(PROMPT)" -n 96 --seed 1

test: build test-release test-asan fuzz test-server test-python test-js

test-release:
	ctest --preset release -j $(JOBS)

# lmx serve driven by the official openai clients (tests/server): the Python package with
# pytest, the npm package and the chat page in headless Chromium with node --test.
test-server: build
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/server
	cd tests/server/js && npm ci --no-audit --no-fund --loglevel=error && npm test

# The Python package (bindings/python): uv builds the core once more (Release, -fPIC, in
# build/python, incremental) with the nanobind extension, installs it into
# bindings/python/.venv with the locked test tools, and pytest checks it against the CLI.
UV := $(CURDIR)/.venv/bin/uv
test-python: build
	cd bindings/python && UV_PYTHON_DOWNLOADS=never UV_PYTHON=$(CURDIR)/.venv/bin/python CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) \
	  $(UV) sync --locked --no-editable --reinstall-package lmx -q
	cd bindings/python && LMX_CLI=$(CURDIR)/$(LMX) .venv/bin/python -m pytest -q

# The JavaScript package (bindings/js): the core compiled once by Emscripten (build/wasm,
# single-threaded, SIMD128), its module copied into the package, tsc, then node:test —
# including the deterministic-logits golden and containers crossing with the native CLI.
EMENV := NODE_PATH=/usr/share/nodejs
test-js: build
	@$(EMENV) emcmake cmake --preset wasm >/dev/null
	@$(EMENV) cmake --build --preset wasm -j $(JOBS)
	cp build/wasm/js/lmx_wasm.js build/wasm/js/lmx_wasm.wasm bindings/js/wasm/
	cd bindings/js && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build && npm test

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
	.venv/bin/python bench/bench_embed.py --lmx $(LMX)
	.venv/bin/python bench/bench_compress.py --lmx $(LMX) $(wildcard bench/texts/*.txt bench/texts/*.c bench/texts/*.json bench/texts/*.log)
	.venv/bin/python bench/llama_bpb.py bench/texts/alice29.txt
	.venv/bin/python bench/bench_languages.py --lmx $(LMX)
	.venv/bin/python bench/bench_server.py --lmx $(LMX)

clean:
	rm -rf build
