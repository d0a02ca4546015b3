"""lmx: local language models on the CPU, from Python.

The lmx C++ runtime, built from the repo's sources and bound with nanobind (``lmx._lmx``).
Compute runs with the GIL released; errors from the core are :class:`LmxError`
(a ``RuntimeError``) carrying the C++ message.

    >>> import lmx
    >>> m = lmx.Model()                       # the default model (SmolLM2-135M-Instruct)
    >>> for piece in m.generate("Once upon a time", max_tokens=32, temperature=0):
    ...     print(piece, end="")
    >>> m.chat([{"role": "user", "content": "Hi!"}]).text()
    >>> blob = lmx.compress(b"hello", m); lmx.decompress(blob, m)
    >>> lmx.Model("all-minilm-l6-v2").embed(["a sentence"]).shape   # (1, 384)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Iterator, Mapping, Sequence, Union

import numpy as np

from . import _lmx
from ._lmx import LmxError, cpu_features, default_model_path, model_home

__all__ = [
    "LmxError",
    "Model",
    "Generation",
    "Logprobs",
    "RegistryEntry",
    "compress",
    "decompress",
    "default_model_path",
    "model_home",
    "cpu_features",
    "registry",
    "resolve_model",
]

__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class RegistryEntry:
    """One row of models/registry.tsv (shipped in the package at build time)."""

    name: str
    set: str
    file: str  # installed file under model_home(); a folder when it ends in "/"
    sha256: str  # of the file, or of a folder's sorted sha256sum manifest

    @property
    def path(self) -> str:
        return os.path.join(model_home(), self.file.rstrip("/"))


def registry() -> list[RegistryEntry]:
    """The models lmx knows how to install (scripts/setup.sh), as the package was built."""
    text = resources.files(__package__).joinpath("registry.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) >= 4:
            rows.append(RegistryEntry(cols[0], cols[1], cols[2], cols[3]))
    return rows


def resolve_model(path_or_name: PathLike | None = None) -> str:
    """None or "default": the default model; an existing path: itself; a registry name
    (e.g. "gemma3-270m-q4_k_m", "all-minilm-l6-v2") or a file/folder name under
    model_home(): that installed model. Anything else is returned unchanged (loading it
    then raises LmxError naming it)."""
    if path_or_name is None or path_or_name == "default":
        return default_model_path()
    p = os.fspath(path_or_name)
    if os.path.exists(p):
        return p
    for e in registry():
        if e.name == p or e.file.rstrip("/") == p:
            return e.path
    installed = os.path.join(model_home(), p)
    if os.sep not in p and os.path.exists(installed):
        return installed
    return p


def _sampling(max_tokens: int, temperature: float, top_k: int, top_p: float, min_p: float,
              repeat_penalty: float, repeat_last_n: int, seed: int) -> _lmx.SamplingArgs:
    return _lmx.SamplingArgs(max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed)


class Generation:
    """Streamed text of Model.generate() / Model.chat(): iterate it for the pieces as they
    become final (complete UTF-8), or call text() for the whole string. Timings and token
    ids are available once it has finished. Closing it (or dropping it) early stops the
    generation at the next token."""

    def __init__(self, stream: _lmx.TextStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        piece = self._stream.next()
        if piece is None:
            raise StopIteration
        return piece

    def text(self) -> str:
        """The whole generated text (consumes what is left of the stream)."""
        for _ in self:
            pass
        return self._stream.text

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "Generation":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def done(self) -> bool:
        return self._stream.done

    @property
    def finish_reason(self) -> str:
        """"stop" (end of generation or a stop string) or "length" (max_tokens, context full)."""
        return self._stream.finish_reason

    @property
    def tokens(self) -> list[int]:
        """The generated token ids."""
        return self._stream.tokens

    @property
    def prompt_tokens(self) -> list[int]:
        return self._stream.prompt_tokens

    @property
    def prompt_ms(self) -> float:
        return self._stream.prompt_ms

    @property
    def generate_ms(self) -> float:
        return self._stream.generate_ms

    @property
    def reused_tokens(self) -> int:
        """chat(): prompt tokens whose keys/values were already in the cache."""
        return self._stream.reused_tokens

    @property
    def tokens_per_second(self) -> float:
        ms = self.generate_ms
        return len(self.tokens) / (ms / 1000.0) if ms > 0 else 0.0


@dataclass(frozen=True)
class Logprobs:
    """Model.logprobs(): ids[0] has no prediction; logprob[i] = log p(ids[i+1] | ids[:i+1])
    (natural log); top_ids / top_logprob: the K most likely tokens at each position."""

    ids: np.ndarray  # int32 [n]
    logprob: np.ndarray  # float64 [n - 1]
    top_ids: np.ndarray  # int32 [n - 1, K]
    top_logprob: np.ndarray  # float64 [n - 1, K]

    @property
    def total_bits(self) -> float:
        return float(-self.logprob.sum() / np.log(2.0))


class Model:
    """A model: a GGUF decoder (generate, chat, logprobs, compress) or an embedding model,
    a folder such as all-minilm-l6-v2, a BERT GGUF file or an ONNX encoder export (embed). Both tokenize and detokenize.

    path_or_name: see resolve_model(); None means the default model.
    n_threads: 0 = all cores. n_ctx: context size (positions) of generate() and chat().
    """

    def __init__(self, path_or_name: PathLike | None = None, *, n_threads: int = 0, n_ctx: int = 2048) -> None:
        self.path = resolve_model(path_or_name)
        self._dec: _lmx.Decoder | None = None
        self._enc: _lmx.Encoder | None = None
        if os.path.exists(self.path) and _lmx.is_embedding_model(self.path):
            self._enc = _lmx.Encoder(self.path, n_threads)
        else:
            self._dec = _lmx.Decoder(self.path, n_threads, n_ctx)

    def __repr__(self) -> str:
        return f"lmx.Model({self.path!r}, kind={self.kind!r})"

    @property
    def kind(self) -> str:
        """"decoder" (GGUF text generation) or "encoder" (embeddings)."""
        return "decoder" if self._dec is not None else "encoder"

    def info(self) -> dict[str, object]:
        """Shapes and metadata: n_vocab, n_layers, n_embd, n_ctx_train, ... (decoder) or dims,
        max_length, pooling, normalize (encoder)."""
        return (self._dec or self._enc).info()  # type: ignore[union-attr]

    @property
    def n_vocab(self) -> int:
        return int(self.info()["n_vocab"])  # type: ignore[call-overload]

    def _decoder(self, what: str) -> _lmx.Decoder:
        if self._dec is None:
            raise LmxError(f"{self.path} is an embedding model: {what} needs a GGUF decoder model")
        return self._dec

    def tokenize(self, text: str, add_special: bool = True, parse_special: bool = False) -> list[int]:
        return (self._dec or self._enc).tokenize(text, add_special, parse_special)  # type: ignore[union-attr]

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of the ids (invalid UTF-8 is replaced; use decompress for bytes)."""
        return (self._dec or self._enc).detokenize(list(ids))  # type: ignore[union-attr]

    def generate(self, prompt: str, *, max_tokens: int = 128, temperature: float = 0.8, top_k: int = 40,
                 top_p: float = 0.95, min_p: float = 0.05, repeat_penalty: float = 1.0, repeat_last_n: int = 64,
                 seed: int = 0, stop: Sequence[str] = (), add_special: bool = True,
                 parse_special: bool = True) -> Generation:
        """Continues the prompt; the defaults are `lmx generate`'s (temperature 0: greedy).
        Returns a streaming Generation; .text() gives the whole string."""
        s = _sampling(max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed)
        return Generation(self._decoder("generate").generate(prompt, s, list(stop), add_special, parse_special))

    def chat(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 512, temperature: float = 0.8,
             top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05, repeat_penalty: float = 1.0,
             repeat_last_n: int = 64, seed: int = 0) -> Generation:
        """The assistant's reply to a conversation ([{"role": ..., "content": ...}], ending
        with a user message) rendered with the model's chat template. Consecutive calls
        reuse the cached prefix of the conversation."""
        msgs = [(str(m["role"]), str(m["content"])) for m in messages]
        s = _sampling(max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed)
        return Generation(self._decoder("chat").chat(msgs, s))

    def logprobs(self, text: str, *, top: int = 0, deterministic: bool = False, add_special: bool = True) -> Logprobs:
        """Log-probability of each token of text given the ones before it (as `lmx logprobs`);
        deterministic=True gives the probabilities compress() codes with."""
        ids, lp, top_ids, top_lp = self._decoder("logprobs").logprobs(text, top, deterministic, add_special)
        return Logprobs(ids, lp, top_ids, top_lp)

    def embed(self, texts: str | Sequence[str], *, normalize: bool | None = None,
              pooling: str | None = None) -> np.ndarray:
        """float32 [len(texts), dims]; normalize (L2) and pooling ("mean", "cls", "last")
        default to the model folder's sentence-transformers config."""
        if self._enc is None:
            raise LmxError(f"{self.path} is a GGUF decoder: embed needs an embedding model folder (e.g. all-minilm-l6-v2)")
        if isinstance(texts, str):
            texts = [texts]
        return self._enc.embed(list(texts), normalize, pooling)

    def self_check(self, n_threads: int = 0) -> dict[str, object]:
        """One timed forward pass over BOS: isa, threads, forward_ms, cache sizes."""
        return self._decoder("self_check").self_check(n_threads)


def _as_decoder(model: Model | PathLike | None) -> _lmx.Decoder:
    m = model if isinstance(model, Model) else Model(model)
    return m._decoder("compression")


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if isinstance(data, str):
        raise TypeError("compress/decompress take bytes; encode text first (e.g. s.encode())")
    return bytes(data)


def compress(data: bytes | bytearray | memoryview, model: Model | PathLike | None = None, *, chunk_bytes: int = 4096,
             workers: int = 0, threads: int = 0) -> bytes:
    """Lossless compression with the model's predictions (`lmx compress`, same format)."""
    return _as_decoder(model).compress(_as_bytes(data), chunk_bytes, workers, threads)


def decompress(blob: bytes | bytearray | memoryview, model: Model | PathLike | None = None, *, workers: int = 0,
               threads: int = 0) -> bytes:
    """Restores what compress() or `lmx compress` made; needs the very same model file."""
    return _as_decoder(model).decompress(_as_bytes(blob), workers, threads)
