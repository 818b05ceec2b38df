"""The HTML report of a diagnosis: findings in plain words, the process map and its charts.

:func:`derive_findings` picks what to read first from a diagnosis document;
:func:`render_report` turns the whole document into one self-contained HTML page.
"""

from supportflow.report.findings import derive_findings
from supportflow.report.html import render_report

__all__ = ["derive_findings", "render_report"]
