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

Learning uses scikit-learn's logistic regression; prediction is numpy only. A model is saved by
:mod:`.modelfile` as arrays and lists, never as pickled code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from supportflow.triage.encoder import Encoder, EncoderInfo
from supportflow.triage.ngrams import NgramFeatures

TrainProgress = Callable[[str, int, int], None]
"""Called with (stage, done, total) while a model learns."""

KNN_TEMPERATURE = 0.02
_TAU_GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
NEVER = 1.01  # a fast-path threshold no probability reaches


class TrainingError(ValueError):
    """The training data cannot make a model; the message says why."""


@dataclass(frozen=True)
class TrainConfig:
    """How a classifier learns. Defaults were measured on BANKING77, HWU64 and CLINC150."""

    c_ngrams: float = 30.0
    c_embedding: float = 30.0
    use_encoder: bool = True
    knn: bool = True
    max_knn_examples: int = 30_000
    holdout_share: float = 0.2
    fast_path: bool = True
    fast_path_tolerance: float = 0.003
    oos_recall_target: float = 0.9
    seed: int = 20240604


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

    def probabilities(self, queries: NDArray[np.float32]) -> NDArray[np.float64]:
        """Softmax over labels of the best cosine, at temperature :data:`KNN_TEMPERATURE`."""
        similarities = queries @ self.embeddings.T
        best = np.maximum.reduceat(similarities, self.starts, axis=1)
        logits = np.full((len(queries), self.n_labels), -1e9, dtype=np.float64)
        logits[:, self.label_of_group] = best / KNN_TEMPERATURE
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

    def embeddings(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """Embeddings of ``rows``; embeds those not yet embedded."""
        if self.encoder is None:
            raise TrainingError("this model needs the encoder, and none was given")
        if self._embeddings is None:
            self._embeddings = np.zeros((len(self.texts), self.encoder.dim), dtype=np.float32)
        todo = rows[~self._done[rows]]
        if len(todo):
            self._embeddings[todo] = self.encoder.embed([self.texts[i] for i in todo])
            self._done[todo] = True
        return self._embeddings[rows]

    def encoded_rows(self) -> NDArray[np.bool_]:
        """Which messages have been embedded so far."""
        return self._done.copy()


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

    def score(self, messages: Messages) -> Scored:
        """Probabilities per label for every message (fast path where the n-grams are sure)."""
        n_grams = self.ngram_head.probabilities(self.ngrams.transform(messages.texts))
        if self.embedding_head is None:
            return Scored(n_grams, np.zeros(len(messages.texts), dtype=bool))
        unknown_language = np.array(
            [
                bool(self.train_languages) and lang not in self.train_languages
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
        parts = [self.embedding_head.probabilities(embeddings)]
        if n_grams is not None:
            parts.append(n_grams)
        if self.nearest is not None:
            parts.append(self.nearest.probabilities(embeddings))
        return np.asarray(sum(parts) / len(parts), dtype=np.float64)

    def no_match(self, probabilities: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which rows are "no match": the out-of-scope label wins, or the top is too unsure."""
        top = probabilities.argmax(axis=1)
        rejected = probabilities.max(axis=1) < self.no_match_threshold
        if self.oos_label is not None:
            rejected |= top == self.labels.index(self.oos_label)
        return np.asarray(rejected, dtype=bool)


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the training pairs, in order: what a model file records of its data."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
        digest.update(label.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def _fit_linear(features: Any, y: NDArray[np.int64], n_labels: int, c: float) -> LinearHead:
    from sklearn.linear_model import LogisticRegression

    # scikit-learn's default tol: at tol=1e-3 lbfgs stopped at iteration 0 on CLINC150 (probe)
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(features, y)
    if int(np.max(model.n_iter_)) <= 1:
        raise TrainingError("logistic regression stopped at its first iteration; check the labels")
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # binary: sigmoid(z) is softmax([-z/2, z/2])
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    full_coef = np.zeros((n_labels, coef.shape[1]))
    full_intercept = np.full(n_labels, -1e4)
    full_coef[model.classes_] = coef
    full_intercept[model.classes_] = intercept
    return LinearHead(
        np.ascontiguousarray(full_coef.T, dtype=np.float32), full_intercept.astype(np.float32)
    )


def _nearest(
    embeddings: NDArray[np.float32], y: NDArray[np.int64], n_labels: int, limit: int, seed: int
) -> NearestExamples:
    rows = np.arange(len(y))
    if len(rows) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))
    order = rows[np.argsort(y[rows], kind="stable")]
    sorted_labels = y[order]
    groups, starts = np.unique(sorted_labels, return_index=True)
    return NearestExamples(
        np.ascontiguousarray(embeddings[order]), starts.astype(np.int64), groups, n_labels
    )


@dataclass
class _Heads:
    ngrams: NgramFeatures
    ngram_head: LinearHead
    embedding_head: LinearHead | None
    nearest: NearestExamples | None


def _fit_heads(
    texts: list[str],
    y: NDArray[np.int64],
    embeddings: NDArray[np.float32] | None,
    n_labels: int,
    config: TrainConfig,
) -> _Heads:
    ngrams = NgramFeatures.fit(texts)
    ngram_head = _fit_linear(ngrams.transform(texts), y, n_labels, config.c_ngrams)
    if embeddings is None:
        return _Heads(ngrams, ngram_head, None, None)
    embedding_head = _fit_linear(embeddings, y, n_labels, config.c_embedding)
    nearest = (
        _nearest(embeddings, y, n_labels, config.max_knn_examples, config.seed)
        if config.knn
        else None
    )
    return _Heads(ngrams, ngram_head, embedding_head, nearest)


def _holdout(y: NDArray[np.int64], share: float, seed: int) -> tuple[NDArray[np.int64], ...]:
    """A stratified held-out part; labels with a single example stay in training."""
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        if len(rows) < 2:
            continue
        k = max(1, round(len(rows) * share))
        held.extend(rng.choice(rows, size=min(k, len(rows) - 1), replace=False).tolist())
    held_rows = np.sort(np.asarray(held, dtype=np.int64))
    keep = np.setdiff1d(np.arange(len(y)), held_rows)
    return keep, held_rows


def _choose_fast_threshold(
    n_grams: NDArray[np.float64], blend: NDArray[np.float64], y: NDArray[np.int64], tolerance: float
) -> tuple[float, dict[str, float]]:
    blend_accuracy = float(np.mean(blend.argmax(1) == y))
    top = n_grams.max(axis=1)
    for tau in _TAU_GRID:
        served = np.where((top >= tau)[:, None], n_grams, blend)
        accuracy = float(np.mean(served.argmax(1) == y))
        if accuracy >= blend_accuracy - tolerance:
            return tau, {
                "blend_accuracy": blend_accuracy,
                "served_accuracy": accuracy,
                "encoded_share": float(np.mean(top < tau)),
            }
    return NEVER, {
        "blend_accuracy": blend_accuracy,
        "served_accuracy": blend_accuracy,
        "encoded_share": 1.0,
    }


def choose_no_match_threshold(
    probabilities: NDArray[np.float64], y: NDArray[np.int64], oos: int, recall_target: float
) -> tuple[float, dict[str, float]]:
    """The threshold with the best in-scope accuracy among those catching ``recall_target`` of
    out-of-scope rows (or, when none does, the one catching the most)."""
    top = probabilities.argmax(axis=1)
    best = probabilities.max(axis=1)
    is_oos = y == oos
    candidates = []
    for t in np.round(np.arange(0.0, 0.96, 0.01), 2):
        rejected = (top == oos) | (best < t)
        recall = float(rejected[is_oos].mean()) if is_oos.any() else 1.0
        in_scope = float(((top == y) & ~rejected)[~is_oos].mean()) if (~is_oos).any() else 0.0
        candidates.append((float(t), recall, in_scope))
    meeting = [c for c in candidates if c[1] >= recall_target]
    t, recall, in_scope = (
        max(meeting, key=lambda c: (c[2], -c[0]))
        if meeting
        else max(candidates, key=lambda c: (c[1], c[2]))
    )
    return t, {"oos_recall": recall, "in_scope_accuracy": in_scope}


def train_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    task: str,
    encoder: Encoder | None,
    oos_label: str | None = None,
    languages: Sequence[str | None] | None = None,
    config: TrainConfig | None = None,
    progress: TrainProgress | None = None,
) -> TextClassifier:
    """Learn a classifier from labelled texts.

    ``encoder=None`` (or ``config.use_encoder=False``) learns the n-gram head only.
    ``languages`` (one code per text, from :class:`~.language.LanguageDetector`) lets the fast
    path send messages in languages the data lacked to the encoder.

    Raises:
        TrainingError: fewer than two labels, empty texts, or ``oos_label`` absent.
    """
    config = config or TrainConfig()
    texts = [str(t) for t in texts]
    labels = [str(label) for label in labels]
    if len(texts) != len(labels):
        raise TrainingError(f"{len(texts)} texts but {len(labels)} labels")
    names = sorted(set(labels))
    if len(names) < 2:
        raise TrainingError(f"need at least two labels, found {len(names)}: {names}")
    if oos_label is not None and oos_label not in names:
        raise TrainingError(f"the out-of-scope label {oos_label!r} is not among the labels")
    index = {name: i for i, name in enumerate(names)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    use_encoder = encoder is not None and config.use_encoder
    report = progress or (lambda stage, done, total: None)
    embeddings = None
    if use_encoder:
        assert encoder is not None
        embeddings = encoder.embed(texts, progress=lambda d, t: report("embedding", d, t))
    training: dict[str, Any] = {
        "rows": len(texts),
        "data_sha256": data_hash(texts, labels),
        "label_counts": {name: int((y == i).sum()) for i, name in enumerate(names)},
    }
    fast_threshold, no_match_threshold = NEVER, 0.0
    keep, held = _holdout(y, config.holdout_share, config.seed)
    if len(held) >= 10:
        report("choosing thresholds on a held-out part", 0, 1)
        heads = _fit_heads(
            [texts[i] for i in keep],
            y[keep],
            None if embeddings is None else embeddings[keep],
            len(names),
            config,
        )
        inner = TextClassifier(
            task, names, heads.ngrams, heads.ngram_head, heads.embedding_head, heads.nearest, None
        )
        held_texts = [texts[i] for i in held]
        n_grams = inner.ngram_head.probabilities(inner.ngrams.transform(held_texts))
        served = n_grams
        holdout: dict[str, Any] = {
            "rows": len(held),
            "ngram_accuracy": float(np.mean(n_grams.argmax(1) == y[held])),
        }
        if embeddings is not None:
            blend = inner._blend(n_grams, embeddings[held])
            if config.fast_path:
                fast_threshold, fast = _choose_fast_threshold(
                    n_grams, blend, y[held], config.fast_path_tolerance
                )
                holdout.update(fast)
            top = n_grams.max(axis=1)
            served = np.where((top >= fast_threshold)[:, None], n_grams, blend)
        if oos_label is not None:
            no_match_threshold, rejection = choose_no_match_threshold(
                served, y[held], index[oos_label], config.oos_recall_target
            )
            holdout.update(rejection)
        training["holdout"] = holdout
        report("choosing thresholds on a held-out part", 1, 1)
    report("learning the heads", 0, 1)
    heads = _fit_heads(texts, y, embeddings, len(names), config)
    report("learning the heads", 1, 1)
    train_languages = tuple(sorted({lang for lang in languages or () if lang}))
    return TextClassifier(
        task=task,
        labels=names,
        ngrams=heads.ngrams,
        ngram_head=heads.ngram_head,
        embedding_head=heads.embedding_head,
        nearest=heads.nearest,
        encoder=encoder.info() if use_encoder and encoder is not None else None,
        oos_label=oos_label,
        fast_threshold=fast_threshold,
        no_match_threshold=no_match_threshold,
        train_languages=train_languages,
        training=training,
    )
