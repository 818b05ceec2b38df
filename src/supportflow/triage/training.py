"""Learning a :class:`~.classifier.TextClassifier` from labelled texts.

A held-out 20 % of the training rows (stratified, seeded) is set aside first. Heads learned
without it choose, on it: the blend's weights and the nearest-example temperature, the
fast-path threshold (the lowest that keeps the blend's score) and the no-match threshold
(the best in-scope accuracy at the out-of-scope recall asked for, aiming one standard error
above it because out-of-scope rows are few). Then the heads are learned again on every row.
scikit-learn's logistic regression fits the heads; nothing of scikit-learn is kept in the model.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from supportflow.triage.classifier import (
    DEFAULT_WEIGHTS,
    KNN_TEMPERATURE,
    NEVER,
    LinearHead,
    NearestExamples,
    TextClassifier,
    TrainingError,
    weighted_blend,
)
from supportflow.triage.encoder import Encoder
from supportflow.triage.ngrams import NgramFeatures

TrainProgress = Callable[[str, int, int], None]
"""Called with (stage, done, total) while a model learns."""

_WEIGHT_GRID = (0.2, 1 / 3, 0.5)
_NEAREST_WEIGHT_GRID = (0.0, 0.2, 1 / 3, 0.5)
_TEMPERATURE_GRID = (0.01, 0.02, 0.05)
MIN_ROWS_TO_TUNE_BLEND = 200  # fewer held-out rows would choose weights by noise
_TAU_GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


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


def _served_score(
    served: NDArray[np.float64], y: NDArray[np.int64], oos: int | None, recall_target: float
) -> tuple[float, float, dict[str, float]]:
    """What the fast path must not lose, and the no-match threshold it implies: accuracy, or
    with an out-of-scope label the mean of in-scope accuracy and out-of-scope recall at the
    threshold chosen for these probabilities (confident n-grams can hide an out-of-scope
    message from the encoder)."""
    if oos is None:
        return float(np.mean(served.argmax(1) == y)), 0.0, {}
    t, figures = choose_no_match_threshold(served, y, oos, recall_target)
    return (figures["in_scope_accuracy"] + figures["oos_recall"]) / 2, t, figures


def _choose_thresholds(
    n_grams: NDArray[np.float64],
    blend: NDArray[np.float64] | None,
    y: NDArray[np.int64],
    oos: int | None,
    config: TrainConfig,
) -> tuple[float, float, dict[str, Any]]:
    """The fast-path threshold (the lowest that keeps the blend's score within the tolerance)
    and the no-match threshold, from held-out probabilities; with an out-of-scope label the
    figures include its recall and the in-scope accuracy at that threshold."""
    if blend is None:
        _, t, rejection = _served_score(n_grams, y, oos, config.oos_recall_target)
        return NEVER, t, rejection
    blend_score, blend_t, rejection = _served_score(blend, y, oos, config.oos_recall_target)
    chosen = (NEVER, blend_t, blend_score, 1.0)
    top = n_grams.max(axis=1)
    # With an out-of-scope label the fast path stays off: n-grams give a confident known label
    # to an out-of-scope wording they never saw (on CLINC150 it cost 3 points of oos recall)
    for tau in _TAU_GRID if config.fast_path and oos is None else ():
        served = np.where((top >= tau)[:, None], n_grams, blend)
        score, t, _ = _served_score(served, y, oos, config.oos_recall_target)
        if score >= blend_score - config.fast_path_tolerance:
            chosen = (tau, t, score, float(np.mean(top < tau)))
            break
    tau, t, score, encoded = chosen
    figures = {"blend_score": blend_score, "served_score": score, "encoded_share": encoded}
    return tau, t, figures | rejection


def _choose_blend(
    inner: TextClassifier,
    n_grams: NDArray[np.float64],
    embeddings: NDArray[np.float32],
    y: NDArray[np.int64],
) -> tuple[tuple[float, float, float], float, dict[str, Any]]:
    """Blend weights and nearest-example temperature with the best held-out accuracy (the
    equal blend at 0.02 unless another beats it)."""
    assert inner.embedding_head is not None and inner.nearest is not None
    embedding = inner.embedding_head.probabilities(embeddings)
    best_cosines = inner.nearest.best_cosines(embeddings)
    default = weighted_blend(
        n_grams, embedding, inner.nearest.softmax(best_cosines, KNN_TEMPERATURE), DEFAULT_WEIGHTS
    )
    best = (float(np.mean(default.argmax(1) == y)), DEFAULT_WEIGHTS, KNN_TEMPERATURE)
    equal_accuracy = best[0]
    for temperature in _TEMPERATURE_GRID:
        nearest = inner.nearest.softmax(best_cosines, temperature)
        for weights in itertools.product(_WEIGHT_GRID, _WEIGHT_GRID, _NEAREST_WEIGHT_GRID):
            blended = weighted_blend(n_grams, embedding, nearest, weights)
            accuracy = float(np.mean(blended.argmax(1) == y))
            if accuracy > best[0]:
                best = (accuracy, weights, temperature)
    return (
        best[1],
        best[2],
        {
            "blend_weights": list(best[1]),
            "knn_temperature": best[2],
            "equal_blend_accuracy": equal_accuracy,
            "chosen_blend_accuracy": best[0],
        },
    )


def choose_no_match_threshold(
    probabilities: NDArray[np.float64],
    y: NDArray[np.int64],
    oos: int,
    recall_target: float,
    *,
    margin_se: float = 1.0,
) -> tuple[float, dict[str, float]]:
    """The threshold with the best in-scope accuracy among those catching ``recall_target`` of
    out-of-scope rows (or, when none does, the one catching the most).

    Out-of-scope rows are usually few (20 held out of CLINC150's 100), so the recall asked of
    them is raised by ``margin_se`` standard errors of a proportion: with 20 rows, 0.9 becomes
    0.967, all of them; with 500, 0.913.
    """
    top = probabilities.argmax(axis=1)
    best = probabilities.max(axis=1)
    is_oos = y == oos
    n_oos = int(is_oos.sum())
    if n_oos:
        spread = np.sqrt(recall_target * (1 - recall_target) / n_oos)
        recall_target = min(1.0, recall_target + margin_se * float(spread))
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


def _learn_on_holdout(
    texts: list[str],
    y: NDArray[np.int64],
    embeddings: NDArray[np.float32] | None,
    keep: NDArray[np.int64],
    held: NDArray[np.int64],
    oos: int | None,
    n_labels: int,
    config: TrainConfig,
) -> tuple[float, float, dict[str, Any], tuple[tuple[float, float, float], float]]:
    """Heads learned without the held-out rows choose the blend, the fast-path threshold and
    the no-match threshold on them."""
    heads = _fit_heads(
        [texts[i] for i in keep],
        y[keep],
        None if embeddings is None else embeddings[keep],
        n_labels,
        config,
    )
    inner = TextClassifier(
        "holdout", [str(i) for i in range(n_labels)], heads.ngrams, heads.ngram_head,
        heads.embedding_head, heads.nearest, None,
    )  # fmt: skip
    n_grams = inner.ngram_head.probabilities(inner.ngrams.transform([texts[i] for i in held]))
    holdout: dict[str, Any] = {
        "rows": len(held),
        "ngram_accuracy": float(np.mean(n_grams.argmax(1) == y[held])),
    }
    blend = None
    if embeddings is not None:
        if len(held) >= MIN_ROWS_TO_TUNE_BLEND and inner.nearest is not None:
            weights, temperature, chosen = _choose_blend(inner, n_grams, embeddings[held], y[held])
            inner.blend_weights, inner.knn_temperature = weights, temperature
            holdout.update(chosen)
        blend = inner._blend(n_grams, embeddings[held])
        holdout["blend_accuracy"] = float(np.mean(blend.argmax(1) == y[held]))
    fast_threshold, no_match_threshold, figures = _choose_thresholds(
        n_grams, blend, y[held], oos, config
    )
    holdout.update(figures)
    return fast_threshold, no_match_threshold, holdout, (inner.blend_weights, inner.knn_temperature)


def _training_languages(languages: Sequence[str | None]) -> tuple[str, ...]:
    """The languages the data really have: a detector's odd miss (one BANKING77 query read as
    Portuguese) must not make a language count as known, so each needs at least 20 rows, or
    1 % of them in a large set."""
    counts = Counter(lang for lang in languages if lang)
    needed = max(1, min(20, len(languages) // 10), len(languages) // 100)
    return tuple(sorted(lang for lang, n in counts.items() if n >= needed))


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
    weights: tuple[tuple[float, float, float], float] = (DEFAULT_WEIGHTS, KNN_TEMPERATURE)
    oos = None if oos_label is None else index[oos_label]
    keep, held = _holdout(y, config.holdout_share, config.seed)
    if len(held) >= 10:
        report("choosing thresholds on a held-out part", 0, 1)
        fast_threshold, no_match_threshold, holdout, weights = _learn_on_holdout(
            texts, y, embeddings, keep, held, oos, len(names), config
        )
        training["holdout"] = holdout
        report("choosing thresholds on a held-out part", 1, 1)
    report("learning the heads", 0, 1)
    heads = _fit_heads(texts, y, embeddings, len(names), config)
    blend_weights, knn_temperature = weights
    report("learning the heads", 1, 1)
    train_languages = _training_languages(languages or ())
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
        blend_weights=blend_weights,
        knn_temperature=knn_temperature,
    )
