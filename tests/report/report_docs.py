"""Diagnosis documents for the report tests, and a way to plant hostile text in them.

``small_diagnosis.json`` is written by hand: five activities, ten tickets, every figure chosen
so that the findings can be checked with pen and paper. ``helpdesk.json`` is what
``supportflow diagnose`` wrote for the bundled help-desk log (21,348 events, 4,580 cases).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_doc(name: str) -> dict[str, Any]:
    """A fresh copy of the fixture document ``name`` (without ``.json``)."""
    path = FIXTURES / f"{name}.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def replace_text(value: Any, old: str, new: str) -> Any:
    """``value`` with every string (and dict key) equal to ``old`` replaced by ``new``."""
    if isinstance(value, dict):
        return {
            (new if key == old else key): replace_text(item, old, new)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [replace_text(item, old, new) for item in value]
    if value == old:
        return new
    return copy.deepcopy(value)


def emptied(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as if its log had no events at all (every list empty, every count zero)."""
    doc["log"].update(events=0, cases=0, activities=0, variants=0, rejected_rows=0)
    for key in ("activities", "start_activities", "end_activities"):
        doc[key] = {}
    for key in ("dfg", "variants", "bottlenecks"):
        doc[key] = []
    doc["case_duration_s"] = dict.fromkeys(doc["case_duration_s"], 0.0)
    doc["rework"] = {
        "cases_with_rework": 0,
        "per_activity": {},
        "self_loop_cases": 0,
        "self_loops": None,
        "median_duration_with_rework_s": None,
        "median_duration_without_rework_s": None,
    }
    doc["pingpong"] = {"activity_cases": 0, "team_cases": None, "resource_cases": None}
    doc["handover"] = {"resources": [], "teams": []}
    doc["workload"] = {"resources": [], "teams": []}
    doc["heatmaps"].update(
        arrivals=[[0] * 24 for _ in range(7)],
        median_wait_s=[[None] * 24 for _ in range(7)],
        wait_counts=[[0] * 24 for _ in range(7)],
    )
    doc["source"]["reject_reasons"] = {}
    return doc
