"""The Python example in docs/routing.md runs and prints what it says."""

from __future__ import annotations

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "routing.md"


def test_the_documented_example_runs() -> None:
    result = doctest.testfile(str(DOC), module_relative=False)
    assert result.attempted >= 10
    assert result.failed == 0
