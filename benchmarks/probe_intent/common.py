"""Shared helpers for the intent-matching probe (issue 4). Not part of the package."""

import csv
import os
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("SF_DATA", "/work/shared/data"))
OUT = Path(os.environ.get("PROBE_OUT", "/tmp/probe_intent"))
SEED = 20240604


def _rows(relative):
    with open(DATA / relative, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load(name):
    """Return (texts, labels) of the TRAIN-side files only."""
    if name == "banking77":
        rows = _rows("banking77/train.csv")
        return [r["text"] for r in rows], [r["category"] for r in rows]
    if name == "clinc150":
        rows = _rows("clinc150/train_val.csv")
        return [r["text"] for r in rows], [r["intent"] for r in rows]
    if name == "hwu64":
        rows = _rows("hwu64/folds1-9.csv")
        return [r["text"] for r in rows], [r["intent"] for r in rows]
    raise KeyError(name)


def clinc_split_col():
    return [r["split"] for r in _rows("clinc150/train_val.csv")]


def split(name, labels, frac=0.10):
    """Seeded stratified split of the train files: (train_idx, val_idx).

    CLINC150: the original `val` + `oos_val` rows are the validation split
    (3,100 rows, 100 oos); `train` + `oos_train` train. This matches the
    published protocol and is still disjoint from the held-back test.
    """
    y = np.asarray(labels)
    if name == "clinc150":
        sp = np.asarray(clinc_split_col())
        tr = np.where((sp == "train") | (sp == "oos_train"))[0]
        va = np.where((sp == "val") | (sp == "oos_val"))[0]
        return tr, va
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, va = train_test_split(idx, test_size=frac, stratify=y, random_state=SEED)
    return np.sort(tr), np.sort(va)
