"""Fixtures of the report tests: the hand-made document and the help-desk log's document."""

from __future__ import annotations

from typing import Any

import pytest
from report_docs import load_doc


@pytest.fixture
def small_doc() -> dict[str, Any]:
    """The hand-made document (see ``report_docs``)."""
    return load_doc("small_diagnosis")


@pytest.fixture
def helpdesk_doc() -> dict[str, Any]:
    """The document ``supportflow diagnose`` wrote for the help-desk log."""
    return load_doc("helpdesk")
