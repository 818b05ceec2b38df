"""Shared fixtures: the demo help-desk log and its pm4py reference answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "helpdesk"
BUNDLED = Path(__file__).resolve().parents[1] / "src" / "supportflow" / "data" / "helpdesk.csv.gz"


@pytest.fixture(scope="session")
def helpdesk_csv() -> Path:
    """The real help-desk log; the shared copy when present, else the bundled gzip."""
    plain = SHARED / "helpdesk.csv"
    return plain if plain.exists() else BUNDLED


@pytest.fixture(scope="session")
def pm4py_reference() -> dict[str, Any]:
    """Reference answers computed with pm4py 2.7.23 on the help-desk log."""
    local = Path(__file__).parent / "fixtures" / "helpdesk_pm4py_reference.json"
    return json.loads(local.read_text(encoding="utf-8"))
