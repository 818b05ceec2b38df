"""The diagnosis as one self-contained HTML page, in English or Simplified Chinese.

``supportflow diagnose LOG --html report.html`` hands the JSON document to
:func:`render_report` and writes what it returns. The page needs nothing but a browser: its
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
from supportflow.report.findings import derive_findings
from supportflow.report.i18n import language
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
"""The report's sections in page order: anchor and the message key of its title."""


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
    """The HTML report for the diagnosis document ``doc`` in language ``lang``.

    ``doc`` follows the JSON contract of ``supportflow diagnose`` (schema 1.0); ``lang`` is
    ``"en"`` or ``"zh"``. Raises ``ValueError`` for another language and ``KeyError`` when
    the document lacks a key the contract guarantees.
    """
    words = language(lang)
    # The CLI's document already carries its findings; a hand-made one gets them derived here.
    findings = describe_findings(
        doc["findings"] if "findings" in doc else derive_findings(doc), lang=words
    )
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
    template = _environment().get_template("report.html.j2")
    return template.render(
        t=words,
        n=words.numbers,
        generator=doc["generator"],
        schema_version=doc["schema_version"],
        sections=SECTIONS,
        section_titles=dict(SECTIONS),
        overview=sections.overview(doc, lang=words),
        findings=findings,
        map_data=map_data(doc, lang=words),
        map_capped=map_capped,
        bottlenecks=sections.bottleneck_table(doc, lang=words),
        heat_timezone=doc["heatmaps"]["timezone"],
        heat_arrivals=heat_arrivals,
        heat_wait=heat_wait,
        variants=sections.variant_table(doc, lang=words),
        variants_text=sections.variants_coverage_text(doc, lang=words),
        rework=sections.rework_summary(doc, lang=words),
        handover_resources=sections.handover_table(
            doc["handover"]["resources"], cases=cases, lang=words
        ),
        handover_teams=sections.handover_table(doc["handover"]["teams"], cases=cases, lang=words),
        workload_resources=sections.workload_chart(doc["workload"]["resources"], lang=words),
        workload_teams=sections.workload_chart(doc["workload"]["teams"], lang=words),
        vendored=assets.VENDORED_GRAPHVIZ,
        # Our own files, checked by `assets` to be safe to inline; everything else is escaped.
        stylesheet=Markup(assets.stylesheet()),
        graphviz_script=Markup(assets.graphviz_module_script()),
        map_script=Markup(assets.process_map_script()),
    )
