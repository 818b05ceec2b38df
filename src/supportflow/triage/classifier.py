"""A text classifier for support messages: n-gram head, embedding head, nearest examples.

Every triage question that has labelled examples (which intent, which queue, how upset) is
answered the same way. Three views of a message vote, each giving a probability per label:

- **n-grams**: logistic regression on character and word TF-IDF (:mod:`.ngrams`): exact
  words, typos, order numbers; cheap;
- **embedding**: logistic regression on the multilingual sentence embedding
  (:mod:`.encoder`): meaning across wording and languages;
- **nearest examples**: for each label, the cosine of the closest training example, as a
  softmax: a new phrasing close to one known example is found even when the label is rare.

The served probability is the average of the three. Embedding costs 10-20 times more than the
rest, so a **fast path** answers from the n-gram head alone when it is sure (its top
probability at least ``fast_threshold``) and the message is in a language the training data
had; the threshold is chosen on a held-out part of the training data as the lowest that keeps
the blend's accuracy. **No match**: when the data have an out-of-scope label, a message is
"no match" when that label wins or the top probability is under ``no_match_threshold``,
chosen on the same held-out part for the out-of-scope recall asked for.

This module is the model and its prediction (numpy only); :mod:`.training` learns one with
scikit-learn's logistic regression; :mod:`.modelfile` saves it as arrays and lists, never as
pickled code.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from supportflow.triage.encoder import Encoder, EncoderInfo
from supportflow.triage.ngrams import Analysed, NgramFeatures, analyse

KNN_TEMPERATURE = 0.02
DEFAULT_WEIGHTS = (1 / 3, 1 / 3, 1 / 3)  # n-grams, embedding, nearest examples
NEVER = 1.01  # a fast-path threshold no probability reaches


class TrainingError(ValueError):
    """The training data cannot make a model; the message says why."""


@dataclass
class LinearHead:
    """Softmax regression weights: ``coef`` (features × labels) and ``intercept``."""

    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]

    def probabilities(self, features: Any) -> NDArray[np.float64]:
        """Label probabilities of a dense array or a scipy sparse matrix of feature rows."""
        logits = np.asarray(features @ self.coef, dtype=np.float64) + self.intercept
        return softmax(logits)


def softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


@dataclass
class NearestExamples:
    """Training embeddings grouped by label: each label scores its closest example's cosine."""

    embeddings: NDArray[np.float32]  # rows sorted by label
    starts: NDArray[np.int64]  # first row of each label (labels without examples excluded)
    label_of_group: NDArray[np.int64]
    n_labels: int

    def best_cosines(self, queries: NDArray[np.float32]) -> NDArray[np.float32]:
        """Per query, the best cosine of each label that has examples (columns: groups)."""
        similarities = queries @ self.embeddings.T
        return np.asarray(np.maximum.reduceat(similarities, self.starts, axis=1))

    def probabilities(
        self, queries: NDArray[np.float32], temperature: float = KNN_TEMPERATURE
    ) -> NDArray[np.float64]:
        """Softmax over labels of the best cosine, at ``temperature``."""
        return self.softmax(self.best_cosines(queries), temperature)

    def softmax(self, best: NDArray[np.float32], temperature: float) -> NDArray[np.float64]:
        """Label probabilities from :meth:`best_cosines` at ``temperature``."""
        logits = np.full((len(best), self.n_labels), -1e9, dtype=np.float64)
        logits[:, self.label_of_group] = best / temperature
        return softmax(logits)

    def nearest(self, query: NDArray[np.float32], label: int) -> float:
        """The cosine of ``label``'s closest example to ``query`` (0 when it has none)."""
        groups = np.flatnonzero(self.label_of_group == label)
        if not len(groups):
            return 0.0
        group = int(groups[0])
        end = self.starts[group + 1] if group + 1 < len(self.starts) else len(self.embeddings)
        return float((self.embeddings[self.starts[group] : end] @ query).max())


@dataclass
class Scored:
    """Label probabilities of a batch, and which messages needed the encoder."""

    probabilities: NDArray[np.float64]
    encoded: NDArray[np.bool_]


class Messages:
    """Texts whose embeddings are computed at most once, and only for the rows that need them.

    Several heads (intent, sentiment, fields) score the same messages; they share one
    ``Messages`` so each message is embedded once at most.
    """

    def __init__(
        self,
        texts: Sequence[str],
        *,
        encoder: Encoder | None,
        languages: Sequence[str | None] | None = None,
    ) -> None:
        self.texts = list(texts)
        self.languages = list(languages) if languages is not None else [None] * len(self.texts)
        self.encoder = encoder
        self._embeddings: NDArray[np.float32] | None = None
        self._done = np.zeros(len(self.texts), dtype=bool)
        self._parent: tuple[Messages, NDArray[np.int64]] | None = None
        self._prefetch: threading.Thread | None = None
        self._prefetch_error: BaseException | None = None
        self._analysed: list[Analysed] | None = None

    def analysed(self) -> list[Analysed]:
        """The n-gram counts of every message, computed once for all the models reading them."""
        if self._parent is not None:
            parent, chosen = self._parent
            everything = parent.analysed()
            return [everything[i] for i in chosen]
        if self._analysed is None:
            self._analysed = [analyse(text) for text in self.texts]
        return self._analysed

    def prefetch(self) -> None:
        """Start embedding every message in a background thread, for when a head will need
        them all: the caller's other work (language, n-grams) then overlaps the encoder's.
        The next :meth:`embeddings` waits for it (and raises what it raised)."""
        if self._parent is not None or self.encoder is None or self._prefetch is not None:
            return

        def run() -> None:
            try:
                self._embed(np.arange(len(self.texts)))
            except BaseException as error:  # re-raised in the caller's thread
                self._prefetch_error = error

        # not a daemon: a process exiting while ONNX Runtime runs would abort
        self._prefetch = threading.Thread(target=run, name="triage-embed")
        self._prefetch.start()

    def subset(self, rows: Sequence[int]) -> Messages:
        """Some of these messages, sharing their embeddings (computed once for both)."""
        chosen = np.asarray(rows, dtype=np.int64)
        child = Messages(
            [self.texts[i] for i in chosen],
            encoder=self.encoder,
            languages=[self.languages[i] for i in chosen],
        )
        child._parent = (self, chosen)
        return child

    def embeddings(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """Embeddings of ``rows``; embeds those not yet embedded."""
        if self._parent is not None:
            parent, chosen = self._parent
            return parent.embeddings(chosen[rows])
        if self.encoder is None:
            raise TrainingError("this model needs the encoder, and none was given")
        self._wait()
        return self._embed(rows)

    def _embed(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        assert self.encoder is not None
        if self._embeddings is None:
            self._embeddings = np.zeros((len(self.texts), self.encoder.dim), dtype=np.float32)
        todo = rows[~self._done[rows]]
        if len(todo):
            self._embeddings[todo] = self.encoder.embed([self.texts[i] for i in todo])
            self._done[todo] = True
        return self._embeddings[rows]

    def _wait(self) -> None:
        if self._prefetch is not None:
            self._prefetch.join()
            self._prefetch = None
            if self._prefetch_error is not None:
                error, self._prefetch_error = self._prefetch_error, None
                raise error

    def encoded_rows(self) -> NDArray[np.bool_]:
        """Which messages have been embedded so far."""
        self._wait()
        return self._done.copy()


def weighted_blend(
    n_grams: NDArray[np.float64] | None,
    embedding: NDArray[np.float64],
    nearest: NDArray[np.float64] | None,
    weights: tuple[float, float, float],
) -> NDArray[np.float64]:
    """The weighted average of the heads that are there (weights renormalised over them)."""
    parts = [(weights[1], embedding)]
    if n_grams is not None:
        parts.append((weights[0], n_grams))
    if nearest is not None:
        parts.append((weights[2], nearest))
    total = sum(w for w, _ in parts) or 1.0
    return np.asarray(sum(w * p for w, p in parts) / total, dtype=np.float64)


@dataclass
class TextClassifier:
    """A trained classifier: labels, the three heads, and the thresholds chosen in training."""

    task: str
    labels: list[str]
    ngrams: NgramFeatures
    ngram_head: LinearHead
    embedding_head: LinearHead | None
    nearest: NearestExamples | None
    encoder: EncoderInfo | None
    oos_label: str | None = None
    fast_threshold: float = NEVER
    no_match_threshold: float = 0.0
    train_languages: tuple[str, ...] = ()
    training: dict[str, Any] = field(default_factory=dict)
    blend_weights: tuple[float, float, float] = DEFAULT_WEIGHTS
    knn_temperature: float = KNN_TEMPERATURE

    def score(self, messages: Messages) -> Scored:
        """Probabilities per label for every message (fast path where the n-grams are sure)."""
        n_grams = self.ngram_head.probabilities(self.ngrams.transform_analysed(messages.analysed()))
        if self.embedding_head is None:
            return Scored(n_grams, np.zeros(len(messages.texts), dtype=bool))
        unknown_language = np.array(
            [
                # no language known (not given, or no letters) is not a foreign language
                lang is not None and bool(self.train_languages) and lang not in self.train_languages
                for lang in messages.languages
            ],
            dtype=bool,
        )
        needs = (n_grams.max(axis=1) < self.fast_threshold) | unknown_language
        rows = np.flatnonzero(needs)
        probabilities = n_grams.copy()
        if len(rows):
            embeddings = messages.embeddings(rows)
            blended = self._blend(n_grams[rows], embeddings)
            # n-grams of a language the data never had are noise: embedding heads alone
            foreign = unknown_language[rows]
            if foreign.any():
                blended[foreign] = self._blend(None, embeddings[foreign])
            probabilities[rows] = blended
        return Scored(probabilities, needs)

    def _blend(
        self, n_grams: NDArray[np.float64] | None, embeddings: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        assert self.embedding_head is not None
        nearest = (
            None
            if self.nearest is None
            else self.nearest.probabilities(embeddings, self.knn_temperature)
        )
        return weighted_blend(
            n_grams, self.embedding_head.probabilities(embeddings), nearest, self.blend_weights
        )

    def encodes_every_message(self) -> bool:
        """True when every message goes to the encoder (no fast path)."""
        return self.embedding_head is not None and self.fast_threshold >= NEVER

    def no_match(self, probabilities: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which rows are "no match": the out-of-scope label wins, or the top is too unsure."""
        top = probabilities.argmax(axis=1)
        rejected = probabilities.max(axis=1) < self.no_match_threshold
        if self.oos_label is not None:
            rejected |= top == self.labels.index(self.oos_label)
        return np.asarray(rejected, dtype=bool)
