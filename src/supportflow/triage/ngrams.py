"""Character and word n-grams with TF-IDF weights: the cheap, exact half of every triage head.

The embedding knows that "refund" and "money back" mean the same; n-grams know that
``card_arrival`` and ``card_delivery_estimate`` differ by the words "arrive" and "estimate",
and they read typos, order numbers and product names the encoder blurs. Two blocks:

- characters 2-5 within word boundaries (``" ref"``, ``"efun"``, ``"und "``), which also
  reads Chinese and Japanese, written without spaces;
- words and word pairs (``"money back"``).

Each block is TF-IDF weighted (``1 + ln tf`` times smoothed idf, as scikit-learn's
``sublinear_tf``) and scaled to unit length. The vocabulary and weights are plain lists and
arrays, so a model file holds no pickled code, and one message is featurised in well under a
millisecond.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

MAX_CHARS = 3000  # n-grams of the first 3,000 characters: a long e-mail says what it is early
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, lower case, one space between words, at most :data:`MAX_CHARS` characters."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()).strip()


def char_grams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Character n-grams inside word boundaries of normalised ``text`` (scikit-learn's char_wb)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if n > length:
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


def word_grams(text: str) -> list[str]:
    """Words and pairs of adjacent words of normalised ``text``."""
    words = _WORD.findall(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


_ANALYSERS = {"char": char_grams, "word": word_grams}

Analysed = dict[str, Counter[str]]
"""One text's n-gram counts by kind (``"char"``, ``"word"``): computed once per message and
shared by every model that reads it (each then looks the n-grams up in its own vocabulary)."""


def analyse(text: str) -> Analysed:
    """The n-gram counts of raw ``text``, normalised first."""
    normal = normalise(text)
    return {kind: Counter(grams(normal)) for kind, grams in _ANALYSERS.items()}


@dataclass
class TfidfBlock:
    """One block of features: its n-gram kind, vocabulary (index order) and idf weights."""

    kind: str
    vocabulary: list[str]
    idf: NDArray[np.float32]

    def __post_init__(self) -> None:
        self._index = {gram: i for i, gram in enumerate(self.vocabulary)}

    @classmethod
    def fit(cls, kind: str, texts: Sequence[str], *, min_df: int = 1) -> TfidfBlock:
        """Learn the vocabulary (n-grams in at least ``min_df`` texts) and idf of normalised texts."""
        analyse = _ANALYSERS[kind]
        document_frequency: Counter[str] = Counter()
        for text in texts:
            document_frequency.update(set(analyse(text)))
        vocabulary = sorted(g for g, df in document_frequency.items() if df >= min_df)
        n = len(texts)
        idf = np.array(
            [math.log((1 + n) / (1 + document_frequency[g])) + 1.0 for g in vocabulary],
            dtype=np.float32,
        )
        return cls(kind, vocabulary, idf)

    def transform(self, texts: Iterable[str]) -> csr_matrix:
        """Unit-length TF-IDF rows of normalised texts (n-grams not in the vocabulary are ignored)."""
        analyser = _ANALYSERS[self.kind]
        return self.transform_counts(Counter(analyser(text)) for text in texts)

    def transform_counts(self, rows: Iterable[Counter[str]]) -> csr_matrix:
        """Unit-length TF-IDF rows of n-gram counts of this block's kind."""
        indptr, indices, values = self.sparse_rows(rows)
        return csr_matrix(
            (np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(indptr) - 1, len(self.vocabulary)),
        )

    def sparse_rows(
        self, rows: Iterable[Counter[str]], offset: int = 0
    ) -> tuple[list[int], list[int], list[float]]:
        """CSR parts (row pointers, columns + ``offset``, values) of the TF-IDF rows."""
        index = self._index
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for counts in rows:
            hits = sorted((index[g], c) for g, c in counts.items() if g in index)
            weights = [(1.0 + math.log(c)) * float(self.idf[i]) for i, c in hits]
            norm = math.sqrt(sum(w * w for w in weights)) or 1.0
            indices.extend(i + offset for i, _ in hits)
            values.extend(w / norm for w in weights)
            indptr.append(len(indices))
        return indptr, indices, values


@dataclass
class NgramFeatures:
    """Character and word blocks side by side."""

    blocks: list[TfidfBlock]

    @classmethod
    def fit(cls, texts: Sequence[str]) -> NgramFeatures:
        """Learn both blocks from raw texts (character n-grams seen in one text only are dropped)."""
        normalised = [normalise(t) for t in texts]
        min_char_df = 2 if len(texts) >= 1000 else 1
        return cls(
            [
                TfidfBlock.fit("char", normalised, min_df=min_char_df),
                TfidfBlock.fit("word", normalised, min_df=1),
            ]
        )

    @property
    def size(self) -> int:
        """Number of features."""
        return sum(len(b.vocabulary) for b in self.blocks)

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """Feature rows of raw texts."""
        return self.transform_analysed([analyse(t) for t in texts])

    def transform_analysed(self, analysed: Sequence[Analysed]) -> csr_matrix:
        """Feature rows of texts already analysed (:func:`analyse`): the blocks side by side,
        built as one sparse matrix (scipy's per-matrix overhead was a millisecond a message)."""
        parts = []
        offset = 0
        for block in self.blocks:
            parts.append(block.sparse_rows((a[block.kind] for a in analysed), offset))
            offset += len(block.vocabulary)
        indptr = [0] * (len(analysed) + 1)
        indices: list[int] = []
        values: list[float] = []
        for row in range(len(analysed)):
            for part_indptr, part_indices, part_values in parts:
                start, end = part_indptr[row], part_indptr[row + 1]
                indices.extend(part_indices[start:end])
                values.extend(part_values[start:end])
            indptr[row + 1] = len(indices)
        return csr_matrix(
            (np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(analysed), offset),
        )
