"""Fixtures shared by the lmx Python tests: the repo (for goldens), the installed default
and embedding models, and the `lmx` CLI the Python results are compared with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import lmx

REPO = Path(__file__).resolve().parents[3]
GOLDENS = REPO / "tests" / "goldens"


def cli_path() -> Path:
    return Path(os.environ.get("LMX_CLI", REPO / "build" / "release" / "bin" / "lmx"))


@pytest.fixture(scope="session")
def default_model() -> lmx.Model:
    path = lmx.default_model_path()
    if not os.path.exists(path):
        pytest.skip(f"the default model is not installed at {path} (scripts/setup.sh)")
    return lmx.Model(n_threads=2)


@pytest.fixture(scope="session")
def embed_model() -> lmx.Model:
    path = os.path.join(lmx.model_home(), "all-minilm-l6-v2")
    if not os.path.isdir(path):
        pytest.skip(f"all-minilm-l6-v2 is not installed at {path} (scripts/setup.sh)")
    return lmx.Model("all-minilm-l6-v2", n_threads=2)


@pytest.fixture(scope="session")
def cli() -> Path:
    p = cli_path()
    if not p.exists():
        pytest.skip(f"the lmx CLI is not built at {p} (make build, or set LMX_CLI)")
    return p


def run_cli(cli: Path, *args: str, input: bytes | None = None) -> bytes:
    r = subprocess.run([str(cli), *args], input=input, capture_output=True, timeout=600)
    assert r.returncode == 0, f"lmx {' '.join(args)} failed: {r.stderr.decode(errors='replace')}"
    return r.stdout


def seq_1_to(n: int) -> bytes:
    return "".join(f"{i}\n" for i in range(1, n + 1)).encode()
