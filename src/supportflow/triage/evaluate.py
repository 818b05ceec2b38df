"""Measure a classifier on labelled data it did not learn from.

``evaluate_classifier`` scores every message one at a time, as the live service would, and
reports accuracy, macro-F1, top-3 accuracy, per-label precision, recall and F1, latency
percentiles, and, when the data have an out-of-scope label, the in-scope accuracy (a correct
label that was not rejected) and the out-of-scope recall (rejected, as it should be).
The keys are those of ``supportflow triage eval --json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from supportflow.triage.classifier import Messages, TextClassifier
from supportflow.triage.encoder import Encoder

Clock = Callable[[], float]


def label_metrics(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> tuple[float, float, dict[str, dict[str, float]]]:
    """Accuracy, macro-F1 over ``labels`` present in ``truth``, and per-label figures."""
    truth_arr = np.asarray(truth, dtype=object)
    predicted_arr = np.asarray(predicted, dtype=object)
    per_label: dict[str, dict[str, float]] = {}
    for label in labels:
        support = int((truth_arr == label).sum())
        predicted_n = int((predicted_arr == label).sum())
        hits = int(((truth_arr == label) & (predicted_arr == label)).sum())
        precision = hits / predicted_n if predicted_n else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    present = [m["f1"] for m in per_label.values() if m["support"]]
    accuracy = float((truth_arr == predicted_arr).mean()) if len(truth_arr) else 0.0
    return accuracy, float(np.mean(present)) if present else 0.0, per_label


def evaluate_classifier(
    model: TextClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    encoder: Encoder | None,
    oos_label: str | None = None,
    languages: Sequence[str | None] | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, Any]:
    """Metrics of ``model`` on ``texts`` with true ``labels``, one message at a time.

    Labels the model does not know count as errors (and are listed under ``unknown_labels``).
    With ``oos_label``, a rejected message ("no match") predicts ``oos_label``.
    """
    n = len(texts)
    probabilities = np.zeros((n, len(model.labels)))
    rejected = np.zeros(n, dtype=bool)
    encoded = np.zeros(n, dtype=bool)
    latencies = np.zeros(n)
    for i, text in enumerate(texts):
        start = clock()
        messages = Messages(
            [text], encoder=encoder, languages=None if languages is None else [languages[i]]
        )
        scored = model.score(messages)
        rejected[i] = bool(model.no_match(scored.probabilities)[0])
        latencies[i] = clock() - start
        probabilities[i] = scored.probabilities[0]
        encoded[i] = bool(scored.encoded[0])
    return metrics_from_scores(
        model, probabilities, rejected, list(labels), oos_label=oos_label,
        latencies_s=latencies, encoded=encoded,
    )  # fmt: skip


def metrics_from_scores(
    model: TextClassifier,
    probabilities: NDArray[np.float64],
    rejected: NDArray[np.bool_],
    labels: list[str],
    *,
    oos_label: str | None,
    latencies_s: NDArray[np.float64],
    encoded: NDArray[np.bool_],
) -> dict[str, Any]:
    """The metrics document from scored messages (see :func:`evaluate_classifier`)."""
    names = np.asarray(model.labels, dtype=object)
    order = np.argsort(-probabilities, axis=1)
    predicted = names[order[:, 0]].tolist()
    if oos_label is not None:
        predicted = [oos_label if r else p for p, r in zip(predicted, rejected, strict=True)]
    top3 = [truth in names[order[i, :3]] for i, truth in enumerate(labels)]
    known = sorted(set(model.labels) | set(labels))
    accuracy, macro_f1, per_label = label_metrics(labels, predicted, known)
    result: dict[str, Any] = {
        "n": len(labels),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "top3_accuracy": float(np.mean(top3)) if top3 else 0.0,
        "per_label": per_label,
        "latency_ms_p50": float(np.percentile(latencies_s, 50) * 1000) if len(labels) else 0.0,
        "latency_ms_p95": float(np.percentile(latencies_s, 95) * 1000) if len(labels) else 0.0,
        "encoded_share": float(encoded.mean()) if len(labels) else 0.0,
        "unknown_labels": sorted(set(labels) - set(model.labels)),
    }
    if oos_label is not None:
        truth = np.asarray(labels, dtype=object)
        pred = np.asarray(predicted, dtype=object)
        in_scope = truth != oos_label
        result["in_scope_accuracy"] = (
            float((pred[in_scope] == truth[in_scope]).mean()) if in_scope.any() else 0.0
        )
        result["oos_recall"] = (
            float((pred[~in_scope] == oos_label).mean()) if (~in_scope).any() else 0.0
        )
    return result
