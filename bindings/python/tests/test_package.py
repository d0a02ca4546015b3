"""The installed package: type stubs that match the extension, py.typed, the registry,
model-name resolution, and `python -m lmx --self-check`."""

import ast
import inspect
import os
import shutil
import subprocess
import sys
from importlib import resources

import pytest

import lmx
from lmx import _lmx


def test_stubs_are_shipped_and_match_the_extension() -> None:
    root = resources.files("lmx")
    assert root.joinpath("py.typed").is_file()
    stub = root.joinpath("_lmx.pyi").read_text(encoding="utf-8")
    tree = ast.parse(stub)
    top = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    public = {k for k in dir(_lmx) if not k.startswith("_")}
    assert top == public, f"stub {sorted(top)} vs module {sorted(public)}"
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        members = {n.name for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
        for name in members:
            assert hasattr(getattr(_lmx, cls.name), name), f"{cls.name}.{name} in the stub, not in the module"
    # the stubs type what the wrapper passes, and import as Python
    assert "def generate(self, prompt: str, sampling: SamplingArgs" in stub
    assert "-> tuple[NDArray[numpy.int32], NDArray[numpy.float64]" in stub
    namespace: dict[str, object] = {}
    exec(compile(stub, "_lmx.pyi", "exec"), namespace)
    assert isinstance(namespace["Decoder"], type) and issubclass(namespace["LmxError"], RuntimeError)  # type: ignore[arg-type]


def test_public_api_is_annotated() -> None:
    for name in ("generate", "chat", "logprobs", "embed", "tokenize", "detokenize"):
        sig = inspect.signature(getattr(lmx.Model, name))
        assert sig.return_annotation is not inspect.Signature.empty, name
    assert inspect.signature(lmx.compress).return_annotation in (bytes, "bytes")


def test_registry_and_name_resolution() -> None:
    names = {e.name: e for e in lmx.registry()}
    assert "smollm2-135m-instruct-q4_1" in names and "all-minilm-l6-v2" in names
    assert lmx.resolve_model(None) == lmx.default_model_path() == lmx.resolve_model("default")
    assert lmx.resolve_model("smollm2-135m-instruct-q4_1") == lmx.default_model_path()
    assert lmx.resolve_model("all-minilm-l6-v2") == os.path.join(lmx.model_home(), "all-minilm-l6-v2")
    env = dict(os.environ, LMX_HOME="/somewhere/else")
    out = subprocess.run([sys.executable, "-c", "import lmx; print(lmx.default_model_path())"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "/somewhere/else/SmolLM2-135M-Instruct.Q4_1.gguf"


def self_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmx", "--self-check", *args], capture_output=True, text=True, timeout=300)


def test_self_check_verifies_sha(default_model: lmx.Model) -> None:
    r = self_check("--verify-sha", "-t", "2")
    assert r.returncode == 0, r.stderr
    assert "verified" in r.stdout and "b179c9523d0e6a0f" in r.stdout
    assert "vocab 49152" in r.stdout and "layers 30" in r.stdout
    assert "kernels" in r.stdout and "forward" in r.stdout and "self-check passed" in r.stdout


def test_self_check_embedding_folder(embed_model: lmx.Model) -> None:
    r = self_check("--verify-sha", "-m", "all-minilm-l6-v2")
    assert r.returncode == 0, r.stderr
    assert "verified" in r.stdout and "dims 384" in r.stdout


def test_self_check_detects_a_changed_file(default_model: lmx.Model, tmp_path) -> None:
    copy = tmp_path / os.path.basename(default_model.path)
    shutil.copyfile(default_model.path, copy)
    with open(copy, "r+b") as f:
        f.seek(-100, os.SEEK_END)
        b = f.read(1)
        f.seek(-100, os.SEEK_END)
        f.write(bytes([b[0] ^ 1]))
    r = self_check("--verify-sha", "-m", str(copy), "--json")
    assert r.returncode == 1
    assert '"ok": false' in r.stdout and '"registry_name": "smollm2-135m-instruct-q4_1"' in r.stdout


def test_self_check_unknown_model(tmp_path) -> None:
    r = self_check("-m", str(tmp_path / "nothing.gguf"))
    assert r.returncode == 1 and "nothing.gguf" in r.stderr
