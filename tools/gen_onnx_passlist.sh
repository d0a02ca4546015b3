#!/usr/bin/env bash
# Regenerates tests/onnx_conformance/passlist.txt: the ONNX backend node tests (Debian's
# libonnx-testdata, the same files as the onnx wheel's onnx/backend/test/data/node) that
# lmx's importer and executor pass. `make test` then checks every listed test still passes.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target onnx_node_tests
node_dir=${1:-/usr/share/libonnx-testdata/data/node}
build/release/tests/onnx_node_tests --write tests/onnx_conformance/passlist.txt "$node_dir" | tail -1
