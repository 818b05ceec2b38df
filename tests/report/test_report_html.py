"""The rendered page: self-contained, escaped, in the right language, with capped tables."""

from __future__ import annotations

import hashlib
import html
import json
import re
from importlib import resources
from typing import Any

import pytest
from report_docs import emptied, replace_text

from supportflow.report import render_report
from supportflow.report.assets import expose_module_exports, graphviz_module_script
from supportflow.report.i18n import EN, ZH

HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=2">'


def map_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script id="sf-map-data" type="application/json">(.*?)</script>', page)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_unknown_language_is_refused(small_doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown report language 'de'"):
        render_report(small_doc, lang="de")


def test_hostile_names_are_escaped_everywhere(small_doc: dict[str, Any]) -> None:
    doc = replace_text(small_doc, "Wait", HOSTILE_SCRIPT)
    doc = replace_text(doc, "Anna", HOSTILE_IMG)
    doc["source"]["path"] = f"exports/{HOSTILE_SCRIPT}.csv"
    doc["source"]["notes"] = [HOSTILE_IMG]
    page = render_report(doc, lang="en")
    assert HOSTILE_SCRIPT not in page
    assert HOSTILE_IMG not in page
    assert html.escape(HOSTILE_SCRIPT, quote=False) in page  # in tables and sentences
    assert "&lt;img src=x onerror=" in page
    # Only our three script elements: Graphviz, the map, and the map's JSON data.
    assert page.count("<script") == 3
    # In the JSON the angle brackets are \u003c escapes, and the name survives a round trip.
    names = [name for name, _ in map_data(page)["activities"]]
    assert HOSTILE_SCRIPT in names


def test_page_loads_nothing_from_elsewhere(helpdesk_doc: dict[str, Any]) -> None:
    page = render_report(helpdesk_doc, lang="en")
    assert re.findall(r"""\b(?:src|href)\s*=\s*(?!["']?#)\S{0,40}""", page) == []
    assert "<link" not in page
    assert "sourceMappingURL" not in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sections_in_order(small_doc: dict[str, Any], lang: str) -> None:
    page = render_report(small_doc, lang=lang)
    positions = [
        page.index(f'<h2 id="{anchor}">')
        for anchor in (
            "findings",
            "map",
            "bottlenecks",
            "heatmaps",
            "variants",
            "rework",
            "handovers",
            "workload",
        )
    ]
    assert positions == sorted(positions)
    assert page.index('<h2 id="h-overview">') < positions[0]


def test_chinese_report(small_doc: dict[str, Any]) -> None:
    page = render_report(small_doc, lang="zh")
    assert '<html lang="zh-CN">' in page
    for key in ("sec_findings", "sec_map", "sec_heatmaps", "sec_workload", "hdr_mapping"):
        assert f">{ZH[key]}<" in page
        assert f">{EN[key]}<" not in page
    assert "“Resolve ticket → Closed”占全部工单时间的 59.1%" in page
    assert "周五" in page
    assert map_data(page)["units"] == {"s": "秒", "min": "分钟", "h": "小时", "d": "天"}


def test_english_report(small_doc: dict[str, Any]) -> None:
    page = render_report(small_doc, lang="en")
    assert '<html lang="en">' in page
    assert f">{EN['sec_findings']}<" in page
    assert "exports/tickets.csv" in page
    assert "2024-03-04 09:05:00 to 2024-03-29 17:40:00" in page
    assert ">Changed at<" in page and ">not mapped<" in page


def test_map_data(small_doc: dict[str, Any]) -> None:
    data = map_data(render_report(small_doc, lang="en"))
    names = [name for name, _ in data["activities"]]
    assert names == [
        "Take in charge ticket",
        "Resolve ticket",
        "Assign seriousness",
        "Closed",
        "Wait",
    ]
    assert data["edges"][0] == [2, 0, 9, 3600.0, 48600.0, 15000.0]
    assert len(data["edges"]) == 8
    assert data["starts"] == [[2, 9], [0, 1]]
    assert data["ends"] == [[3, 9], [1, 1]]


def test_empty_log(small_doc: dict[str, Any]) -> None:
    page = render_report(emptied(small_doc), lang="en")
    assert f">{EN['no_findings']}<" in page
    # bottlenecks, rework, handovers (agents, teams), workload (agents, teams)
    assert page.count(f">{EN['no_data']}<") == 6
    assert map_data(page)["edges"] == []


def test_long_lists_are_capped(small_doc: dict[str, Any]) -> None:
    variant = small_doc["variants"][0]
    small_doc["variants"] = [dict(variant, cases=1, share=0.001) for _ in range(120)]
    small_doc["log"]["variants"] = 900
    arc = small_doc["handover"]["resources"][0]
    small_doc["handover"]["resources"] = [
        dict(arc, source=f"agent {i}", target=f"agent {i + 1}") for i in range(500)
    ]
    small_doc["workload"]["resources"] = [
        {"name": f"agent {i}", "events": 10, "cases": 3, "share": 0.001} for i in range(400)
    ]
    page = render_report(small_doc, lang="en")
    rows = re.search(r'<table data-table="variants">.*?</table>', page, re.S)
    assert rows is not None and rows.group(0).count("<tr>") == 1 + 50
    handovers = re.search(r'<table data-table="handover-resources">.*?</table>', page, re.S)
    assert handovers is not None and handovers.group(0).count("<tr>") == 1 + 30
    assert "Showing the 30 largest of the 500 rows in the diagnosis document." in page
    assert "Showing the 30 largest of the 400 rows in the diagnosis document." in page
    assert "The 50 most frequent of 900 variants; together 5.0% of cases." in page


def test_expose_module_exports() -> None:
    module = "const a=1;function b(){}\nexport{a as Answer,b};\n//# sourceMappingURL=x.js.map\n"
    assert expose_module_exports(module, global_name="lib") == (
        "const a=1;function b(){}\nglobalThis.lib=Object.freeze({Answer:a,b:b});\n\n"
    )
    with pytest.raises(ValueError, match="expected one export statement, found 2"):
        expose_module_exports("export{a};export{b};", global_name="lib")


def test_vendored_graphviz_is_the_recorded_file() -> None:
    vendor = resources.files("supportflow.report") / "vendor"
    recorded = re.search(
        r"`wasm-graphviz.js` sha256: `([0-9a-f]{64})`", (vendor / "README.md").read_text()
    )
    assert recorded is not None
    assert hashlib.sha256((vendor / "wasm-graphviz.js").read_bytes()).hexdigest() == (
        recorded.group(1)
    )
    script = graphviz_module_script()
    assert "globalThis.supportflowGraphviz=Object.freeze({" in script
    assert "export{" not in script
