"""The README's Python example runs and prints what it says."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_examples() -> None:
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        result = doctest.testfile(str(ROOT / "README.md"), module_relative=False)
    finally:
        os.chdir(cwd)
    assert result.attempted >= 6
    assert result.failed == 0
