"""The HTML report of a diagnosis: findings in plain words, the process map and its charts.

:func:`derive_findings` picks what to read first from a diagnosis document;
:func:`render_report` turns the whole document into one self-contained HTML page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from supportflow.report.findings import derive_findings

if TYPE_CHECKING:
    from supportflow.report.html import render_report

__all__ = ["derive_findings", "render_report"]


def __getattr__(name: str) -> Any:
    # The renderer pulls in Jinja2 and the templates; a JSON-only run never needs them.
    if name == "render_report":
        from supportflow.report.html import render_report

        return render_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
