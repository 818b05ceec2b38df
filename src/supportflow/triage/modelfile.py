"""Model files (``.sfm``): a trained classifier as arrays and lists in a zip, never pickled code.

A file holds ``meta.json`` (task, labels, thresholds, the encoder's name and version, the
training data's SHA-256 and size, the supportflow version), ``vocabulary.json`` (the n-gram
vocabularies) and ``arrays.npz`` (weights, idf, nearest-example embeddings in float16).
Loading refuses a file made with another encoder (its embedding head would read vectors from
a different space) and a file of a newer format.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from supportflow import __version__
from supportflow.triage.classifier import (
    DEFAULT_WEIGHTS,
    KNN_TEMPERATURE,
    LinearHead,
    NearestExamples,
    TextClassifier,
)
from supportflow.triage.encoder import EncoderInfo
from supportflow.triage.ngrams import NgramFeatures, TfidfBlock

FORMAT = "supportflow-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file is unreadable, of another format, or made with another encoder."""


def save_model(model: TextClassifier, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (a zip; ``.sfm`` by convention)."""
    target = Path(path)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "supportflow_version": __version__,
        "task": model.task,
        "labels": model.labels,
        "oos_label": model.oos_label,
        "fast_threshold": model.fast_threshold,
        "no_match_threshold": model.no_match_threshold,
        "train_languages": list(model.train_languages),
        "encoder": None if model.encoder is None else vars(model.encoder),
        "ngram_blocks": [block.kind for block in model.ngrams.blocks],
        "blend_weights": list(model.blend_weights),
        "knn_temperature": model.knn_temperature,
        "training": model.training,
    }
    arrays: dict[str, np.ndarray[Any, Any]] = {
        "ngram_coef": model.ngram_head.coef.astype(np.float16),
        "ngram_intercept": model.ngram_head.intercept,
    }
    for i, block in enumerate(model.ngrams.blocks):
        arrays[f"idf_{i}"] = block.idf
    if model.embedding_head is not None:
        arrays["embedding_coef"] = model.embedding_head.coef
        arrays["embedding_intercept"] = model.embedding_head.intercept
    if model.nearest is not None:
        arrays["nearest_embeddings"] = model.nearest.embeddings.astype(np.float16)
        arrays["nearest_starts"] = model.nearest.starts
        arrays["nearest_labels"] = model.nearest.label_of_group
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub misreads **kwargs
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(meta, ensure_ascii=False, indent=1))
        archive.writestr(
            "vocabulary.json",
            json.dumps([block.vocabulary for block in model.ngrams.blocks], ensure_ascii=False),
        )
        archive.writestr("arrays.npz", buffer.getvalue())
    return target


def read_meta(path: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a model file.

    Raises:
        ModelFileError: not a readable supportflow model file.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            meta: dict[str, Any] = json.loads(archive.read("meta.json"))
    except (OSError, zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path}: not a supportflow model file ({error})") from error
    if meta.get("format") != FORMAT:
        raise ModelFileError(
            f"{path}: not a supportflow model file (format {meta.get('format')!r})"
        )
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format {meta['format_version']} is newer than this supportflow "
            f"reads ({FORMAT_VERSION}); upgrade supportflow"
        )
    return meta


def load_model(path: str | Path, *, encoder: EncoderInfo | None) -> TextClassifier:
    """Read a model file; ``encoder`` is the one this process will embed with.

    Raises:
        ModelFileError: unreadable, another format, or trained with a different encoder
            (or with one while ``encoder`` is ``None``).
    """
    meta = read_meta(path)
    recorded = meta.get("encoder")
    if recorded is not None:
        if encoder is None:
            raise ModelFileError(f"{path}: the model needs the encoder {recorded['name']}")
        if (recorded["name"], recorded["version"], recorded["dim"]) != (
            encoder.name,
            encoder.version,
            encoder.dim,
        ):
            raise ModelFileError(
                f"{path}: trained with encoder {recorded['name']} {recorded['version']}, "
                f"this process has {encoder.name} {encoder.version}; retrain the model"
            )
    try:
        with zipfile.ZipFile(path) as archive:
            vocabularies = json.loads(archive.read("vocabulary.json"))
            with np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ModelFileError(f"{path}: damaged model file ({error})") from error
    blocks = [
        TfidfBlock(kind, vocabulary, arrays[f"idf_{i}"])
        for i, (kind, vocabulary) in enumerate(zip(meta["ngram_blocks"], vocabularies, strict=True))
    ]
    embedding_head = None
    if "embedding_coef" in arrays:
        embedding_head = LinearHead(arrays["embedding_coef"], arrays["embedding_intercept"])
    nearest = None
    if "nearest_embeddings" in arrays:
        nearest = NearestExamples(
            arrays["nearest_embeddings"].astype(np.float32),
            arrays["nearest_starts"],
            arrays["nearest_labels"],
            len(meta["labels"]),
        )
    return TextClassifier(
        task=meta["task"],
        labels=list(meta["labels"]),
        ngrams=NgramFeatures(blocks),
        ngram_head=LinearHead(arrays["ngram_coef"].astype(np.float32), arrays["ngram_intercept"]),
        embedding_head=embedding_head,
        nearest=nearest,
        encoder=None if recorded is None else EncoderInfo(**recorded),
        oos_label=meta.get("oos_label"),
        fast_threshold=float(meta["fast_threshold"]),
        no_match_threshold=float(meta["no_match_threshold"]),
        train_languages=tuple(meta.get("train_languages", ())),
        training=dict(meta.get("training", {})),
        blend_weights=tuple(meta.get("blend_weights", DEFAULT_WEIGHTS)),
        knn_temperature=float(meta.get("knn_temperature", KNN_TEMPERATURE)),
    )
