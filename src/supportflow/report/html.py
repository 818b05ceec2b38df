"""The diagnosis and the service KPIs as one self-contained HTML page, in English or Chinese.

``supportflow diagnose LOG --html report.html`` hands the JSON document to
:func:`render_report` and writes what it returns; ``supportflow kpi LOG --html kpi.html`` does
the same with a document holding only the KPIs, whose page then has the findings and the KPI
pages (:mod:`.kpi_sections`) without the process map. The page needs nothing but a browser: its
style, its charts (inline SVG drawn here), the process map's script and Graphviz itself
(WebAssembly, inlined) are all inside the file, so it opens from a mail attachment, offline.

Everything shown comes from the document, and much of it is text from the user's log, which
can hold anything, ``<script>`` included. The template therefore escapes every value
(Jinja's autoescape is on for the whole template), the map's data travels as escaped JSON,
and only our own stylesheet and scripts are inserted unescaped.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from markupsafe import Markup

from supportflow.report import assets, sections
from supportflow.report.findings import report_findings
from supportflow.report.i18n import Language, language
from supportflow.report.kpi_sections import kpi_context
from supportflow.report.narrative import describe_findings
from supportflow.report.process_map import MAX_MAP_EDGES, map_data

SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "sec_overview"),
    ("findings", "sec_findings"),
    ("map", "sec_map"),
    ("bottlenecks", "sec_bottlenecks"),
    ("heatmaps", "sec_heatmaps"),
    ("variants", "sec_variants"),
    ("rework", "sec_rework"),
    ("handovers", "sec_handovers"),
    ("workload", "sec_workload"),
)
"""The diagnosis sections in page order: anchor and the message key of its title."""

KPI_SECTIONS: tuple[tuple[str, str], ...] = (
    ("kpi-overview", "sec_kpi_overview"),
    ("kpi-sla", "sec_kpi_sla"),
    ("kpi-breakdowns", "sec_kpi_breakdowns"),
    ("kpi-drift", "sec_kpi_drift"),
)
"""The KPI pages, after the diagnosis (or after the findings in a KPI-only report)."""


def page_sections(doc: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The sections the report of ``doc`` has: the diagnosis ones when it holds a diagnosis,
    the findings always, the KPI pages when it has a ``kpi`` section."""
    diagnosis = SECTIONS if "log" in doc else (("findings", "sec_findings"),)
    return diagnosis + (KPI_SECTIONS if doc.get("kpi") else ())


@functools.cache
def _environment() -> jinja2.Environment:
    # Built on first use, not at import, and kept: compiling the template is most of a render.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("supportflow.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def render_report(doc: dict[str, Any], *, lang: str = "en") -> str:
    """The HTML report for the document ``doc`` in language ``lang``.

    ``doc`` follows the JSON contract of ``supportflow diagnose`` (schema 1.0), with or
    without its ``kpi`` section, or is the document of ``supportflow kpi`` (``generator`` and
    ``kpi`` only: the report then has the findings and the KPI pages, no process map).
    ``lang`` is ``"en"`` or ``"zh"``. Raises ``ValueError`` for another language and
    ``KeyError`` when the document lacks a key the contract guarantees.
    """
    words = language(lang)
    kpi = doc.get("kpi")
    if "log" not in doc and not kpi:
        raise KeyError("log")
    sections = page_sections(doc)
    context: dict[str, Any] = {
        "t": words,
        "n": words.numbers,
        "generator": doc["generator"],
        "schema_version": doc["schema_version"] if "log" in doc else doc["kpi"]["schema_version"],
        "sections": sections,
        "section_titles": dict(sections),
        "findings": describe_findings(report_findings(doc), lang=words),
        "diagnosis": "log" in doc,
        "kpi": kpi_context(kpi, lang=words) if kpi else None,
        # Our own stylesheet, checked by `assets` to be safe to inline; everything else is escaped.
        "stylesheet": Markup(assets.stylesheet()),
    }
    if "log" in doc:
        context.update(_diagnosis_context(doc, words=words))
    return _environment().get_template("report.html.j2").render(context)


def _diagnosis_context(doc: dict[str, Any], *, words: Language) -> dict[str, Any]:
    """What the diagnosis sections of the template need: tables, charts and the map."""
    heat_arrivals, heat_wait = sections.heatmaps(doc, lang=words)
    cases = int(doc["log"]["cases"])
    total_edges = len(doc["dfg"])
    map_capped = (
        words.say(
            "map_capped",
            shown=words.numbers.count(MAX_MAP_EDGES),
            total=words.numbers.count(total_edges),
        )
        if total_edges > MAX_MAP_EDGES
        else None
    )
    return {
        "overview": sections.overview(doc, lang=words),
        "map_data": map_data(doc, lang=words),
        "map_capped": map_capped,
        "bottlenecks": sections.bottleneck_table(doc, lang=words),
        "heat_timezone": doc["heatmaps"]["timezone"],
        "heat_arrivals": heat_arrivals,
        "heat_wait": heat_wait,
        "variants": sections.variant_table(doc, lang=words),
        "variants_text": sections.variants_coverage_text(doc, lang=words),
        "rework": sections.rework_summary(doc, lang=words),
        "handover_resources": sections.handover_table(
            doc["handover"]["resources"], cases=cases, lang=words
        ),
        "handover_teams": sections.handover_table(
            doc["handover"]["teams"], cases=cases, lang=words
        ),
        "workload_resources": sections.workload_chart(doc["workload"]["resources"], lang=words),
        "workload_teams": sections.workload_chart(doc["workload"]["teams"], lang=words),
        "vendored": assets.VENDORED_GRAPHVIZ,
        # Our own scripts, checked by `assets` to be safe to inline.
        "graphviz_script": Markup(assets.graphviz_module_script()),
        "map_script": Markup(assets.process_map_script()),
    }
