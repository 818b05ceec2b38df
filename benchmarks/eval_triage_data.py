"""Data splits and a disk-cached encoder for ``eval_triage.py`` (not part of the package).

The data are read in place from ``/work/shared/data`` (``SF_DATA`` overrides) and never
copied; embeddings, models and results go to ``/tmp/eval_triage`` (``EVAL_TRIAGE_OUT``).

Splits (all seeded with :data:`SEED`, all taken from the train-side files only):

- BANKING77, HWU64: 10 % stratified validation, the probe's split
  (``benchmarks/probe_intent/common.py``: ``train_test_split(test_size=0.1, stratify=labels,
  random_state=20240604)``, indices sorted);
- CLINC150: the original ``train`` + ``oos_train`` / ``val`` + ``oos_val``;
- UMSAB: the original ``train`` / ``val``;
- airline tweets: 20 % stratified on ``airline_sentiment``;
- support tickets: 20 % stratified on ``queue``, one split for the queue, type and priority
  tasks of a file group.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from numpy.typing import NDArray

from supportflow.triage.e5runtime import OrtE5Encoder
from supportflow.triage.encoder import Encoder, EncoderInfo

DATA = Path(os.environ.get("SF_DATA", "/work/shared/data"))
OUT = Path(os.environ.get("EVAL_TRIAGE_OUT", "/tmp/eval_triage"))
SEED = 20240604
SENTIMENT_NAMES = {"0": "negative", "1": "neutral", "2": "positive"}
TICKET_FILES_10_QUEUES = ("multilang3_4k_prefix_train.csv", "multilang4_20k_prefix_train.csv")
TICKET_FILE_GERMAN = "german_normalized_train.csv"


@dataclass
class Split:
    """Training and validation texts of one task, and facts about where they came from."""

    name: str
    train_texts: list[str]
    train_labels: list[str]
    val_texts: list[str]
    val_labels: list[str]
    oos_label: str | None = None
    val_groups: list[str] | None = None  # e.g. the data set's own language column, for breakdowns
    notes: dict[str, object] = field(default_factory=dict)


def rows(relative: str) -> list[dict[str, str]]:
    """The rows of a CSV file under :data:`DATA`."""
    with open(DATA / relative, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def stratified(labels: Sequence[str], share: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Seeded stratified (train, validation) row indices, each sorted (the probe's split)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    train, val = train_test_split(
        index, test_size=share, stratify=np.asarray(labels), random_state=SEED
    )
    return np.sort(train), np.sort(val)


def _pick(values: Sequence[str], index: NDArray[np.int64]) -> list[str]:
    return [values[i] for i in index]


def _from_rows(
    name: str, texts: list[str], labels: list[str], share: float, **extra: object
) -> Split:
    train, val = stratified(labels, share)
    return Split(
        name,
        _pick(texts, train),
        _pick(labels, train),
        _pick(texts, val),
        _pick(labels, val),
        notes={"split": f"seeded ({SEED}) {share:.0%} stratified", **extra},
    )


def banking77() -> Split:
    data = rows("banking77/train.csv")
    texts, labels = [r["text"] for r in data], [r["category"] for r in data]
    return _from_rows("banking77", texts, labels, 0.10, file="banking77/train.csv")


def hwu64() -> Split:
    data = rows("hwu64/folds1-9.csv")
    texts, labels = [r["text"] for r in data], [r["intent"] for r in data]
    return _from_rows("hwu64", texts, labels, 0.10, file="hwu64/folds1-9.csv")


def clinc150() -> Split:
    data = rows("clinc150/train_val.csv")
    train = [r for r in data if r["split"] in {"train", "oos_train"}]
    val = [r for r in data if r["split"] in {"val", "oos_val"}]
    return Split(
        "clinc150",
        [r["text"] for r in train],
        [r["intent"] for r in train],
        [r["text"] for r in val],
        [r["intent"] for r in val],
        oos_label="oos",
        notes={"split": "original train+oos_train / val+oos_val", "file": "clinc150/train_val.csv"},
    )


def umsab() -> Split:
    data = rows("umsab_multilingual_sentiment/train_val.csv")
    train = [r for r in data if r["split"] == "train"]
    val = [r for r in data if r["split"] == "val"]
    return Split(
        "umsab",
        [r["text"] for r in train],
        [SENTIMENT_NAMES[r["label"]] for r in train],
        [r["text"] for r in val],
        [SENTIMENT_NAMES[r["label"]] for r in val],
        val_groups=[r["lang"] for r in val],
        notes={
            "split": "original train / val",
            "file": "umsab_multilingual_sentiment/train_val.csv",
        },
    )


def airline() -> Split:
    data = rows("airline_tweets_sentiment/train.csv")
    texts, labels = [r["text"] for r in data], [r["airline_sentiment"] for r in data]
    return _from_rows("airline", texts, labels, 0.20, file="airline_tweets_sentiment/train.csv")


def ticket_text(row: dict[str, str]) -> str:
    """What the ticket classifier reads: subject, a line break, body."""
    return f"{row.get('subject') or ''}\n{row.get('body') or ''}"


def tickets(group: str) -> dict[str, Split]:
    """``group`` ``"ml34"`` (the two 10-queue multi-language prefixes) or ``"german"``: one
    split, stratified on queue, shared by the group's tasks (queue, type, priority)."""
    files = TICKET_FILES_10_QUEUES if group == "ml34" else (TICKET_FILE_GERMAN,)
    data = [r for f in files for r in rows(f"support_tickets_multilang/{f}")]
    train, val = stratified([r["queue"] for r in data], 0.20)
    fields = ("queue", "type", "priority") if group == "ml34" else ("queue", "priority")
    texts = [ticket_text(r) for r in data]
    langs = [r["language"] for r in data]
    out = {}
    for name in fields:
        labels = [r[name] for r in data]
        out[name] = Split(
            f"tickets_{group}_{name}",
            _pick(texts, train),
            _pick(labels, train),
            _pick(texts, val),
            _pick(labels, val),
            val_groups=_pick(langs, val),
            notes={
                "split": f"seeded ({SEED}) 20 % stratified on queue",
                "file": " + ".join(f"support_tickets_multilang/{f}" for f in files),
            },
        )
    return out


def sentiment_seed() -> tuple[list[str], list[str], list[str]]:
    """Texts, sentiment labels and languages of the package's ``sentiment_seed.yaml``."""
    source = resources.files("supportflow.triage").joinpath("data/sentiment_seed.yaml")
    messages = yaml.safe_load(source.read_text(encoding="utf-8"))["messages"]
    return (
        [m["text"] for m in messages],
        [m["sentiment"] for m in messages],
        [m["language"] for m in messages],
    )


Progress = Callable[[int, int], None]


class CachedEncoder:
    """The package's encoder (:func:`shared_encoder`'s kind) behind an SQLite cache keyed by the text's SHA-1, one
    cache file per encoder name and version.

    Same ``name``, ``version`` and ``dim`` as the wrapped encoder, so model files record the
    real encoder. ``computed`` and ``compute_seconds`` count the texts the engine embedded in
    this process (cache misses) and the wall time it took.
    """

    def __init__(self, directory: Path = OUT / "cache", inner: Encoder | None = None) -> None:
        self.inner = inner or OrtE5Encoder(cache_size=0)
        self.name = self.inner.name
        self.version = self.inner.version
        self.dim = self.inner.dim
        directory.mkdir(parents=True, exist_ok=True)
        # one file per encoder name (it holds the input cut, e.g. ".../max128") and version
        slug = re.sub(r"[^A-Za-z0-9.]+", "_", f"{self.name}_{self.version}").strip("_")
        self.path = directory / f"{slug}.sqlite"
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        self._memory: dict[str, NDArray[np.float32]] = {}
        self.computed = 0
        self.compute_seconds = 0.0

    def info(self) -> EncoderInfo:
        return self.inner.info()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()

    def _load(self, keys: list[str]) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k not in self._memory]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, vec FROM emb WHERE key IN ({marks})"
            for key, blob in self._db.execute(query, chunk):
                self._memory[key] = np.frombuffer(blob, dtype=np.float32)

    def embed(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        keys = [self.key(t) for t in texts]
        self._load(keys)
        todo = list(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._memory}.items()
        )
        chunk_size = 256
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            began = time.perf_counter()
            vectors = self.inner.embed([t for _, t in chunk])
            self.compute_seconds += time.perf_counter() - began
            self.computed += len(chunk)
            self._db.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?)",
                [
                    (k, v.astype(np.float32).tobytes())
                    for (k, _), v in zip(chunk, vectors, strict=True)
                ],
            )
            self._db.commit()
            for (k, _), v in zip(chunk, vectors, strict=True):
                self._memory[k] = v.astype(np.float32)
            if progress is not None:
                progress(min(start + chunk_size, len(todo)), len(todo))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._memory[k]
        return out
