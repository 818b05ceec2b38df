"""The KPI pages: figures formatted, verdicts marked, hostile names escaped, sections skipped.

Most stories use the hand-made section of ``kpi_docs.small_kpi`` (figures chosen for pen and
paper); the last ones render the demo log's KPIs, computed by the real pipeline.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from kpi_docs import DAY, HOSTILE, demo_kpi, kpi_only, small_kpi
from report_docs import load_doc

from supportflow.report import render_report
from supportflow.report.i18n import EN, ZH, language
from supportflow.report.kpi_charts import drift_chart, duration_ticks, flow_chart, nice_ticks
from supportflow.report.kpi_sections import kpi_context

EN_WORDS = language("en")


class _Rows(HTMLParser):
    """The rows of one ``<table data-table=NAME>``: (class of the row, texts of its cells)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name, self.inside = name, False
        self.rows: list[tuple[str | None, list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("data-table") == self.name:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append((found.get("class"), []))
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1][1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(page: str, name: str) -> list[tuple[str | None, list[str]]]:
    """Body rows of the table ``name`` (header row left out) as (row class, cell texts)."""
    parser = _Rows(name)
    parser.feed(page)
    assert parser.rows, f"no table {name!r}"
    return parser.rows[1:]


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section aria-labelledby="{anchor}">.*?</section>', page, re.S)
    assert match is not None, anchor
    return match.group(0)


# Charts -------------------------------------------------------------------------------------


def test_axis_ticks() -> None:
    assert nice_ticks(5.0) == [0.0, 2.0, 4.0, 6.0]
    assert nice_ticks(90.0) == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert nice_ticks(0.0) == [0.0, 1.0]
    # 45 days step in days: 20 d, up to 60 d.
    assert duration_ticks(45 * DAY) == [0.0, 20 * DAY, 40 * DAY, 60 * DAY]


def test_flow_chart_geometry() -> None:
    # 4 days (4-7 March) over 936 px: 234 px a day; the count axis goes to 6 (208 px high).
    chart = flow_chart(
        small_kpi()["flow"]["daily"],
        bucket_tooltip=lambda period, a, r, b: f"{period} {a} {r} {b}",
    )
    first, second = chart.bars[:2]
    assert (first.x, first.y, first.width, first.height, first.css) == (
        52.0, 79.3, 116.5, 138.7, "arrivals"
    )  # fmt: skip
    assert (second.x, second.y, second.height, second.css) == (168.5, 183.3, 34.7, "resolutions")
    assert first.tooltip == "2024-03-04 4 1 3"
    assert len(chart.bars) == 6  # no bars for the 6th, which had no event
    # Backlog 3 at the end of the 4th, 4 at the end of the 5th (and the 6th), 2 on the 7th.
    assert chart.backlog_path == "M52.0,218.0H286.0V114.0H520.0V79.3H988.0V148.7"
    assert chart.peak == (520.0, 79.3)
    assert [tick.label for tick in chart.y_ticks] == ["0", "2", "4", "6"]
    assert [(tick.at, tick.label) for tick in chart.x_ticks] == [
        (169.0, "2024-03-04"),
        (403.0, "2024-03-05"),
        (637.0, "2024-03-06"),
        (871.0, "2024-03-07"),
    ]


def test_drift_chart_geometry() -> None:
    series = small_kpi()["drift"]["series"][0]
    chart = drift_chart(series, period="month", duration=EN_WORDS.numbers.duration)
    # January to April 2024 is 121 days over 436 px; 4 March is day 63.
    assert [(mark.x, mark.label) for mark in chart.changes] == [(279.0, "2024-03-04")]
    assert [tick.label for tick in chart.y_ticks] == ["0", "20 d", "40 d", "60 d"]
    assert [tick.label for tick in chart.x_ticks] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert len(chart.median_points.split()) == 4
    assert len(chart.band_points.split()) == 8
    # The median of each stretch: 30 d before 4 March, 15 d from then on.
    assert chart.stretch_path.count("M") == 2


# Sections of the hand-made document -----------------------------------------------------------


def test_kpi_overview_figures() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    assert table_rows(page, "kpis") == [
        (None, ["First response time", "90", "1.5 h", "45 min", "3.5 h", "1.0 h", "55.0%"]),
        (None, ["First-contact resolution", "80", "62.5%", "–", "–", "–", "–"]),
        (None, ["Reassignments per ticket", "100", "0.30", "0.00", "1.00", "–", "–"]),
    ]
    assert 'title="first response − creation">First response time<' in page
    context = kpi_context(small_kpi(), lang=EN_WORDS)
    cards = [(card.label, card.value, card.detail) for card in context["overview"]["cards"]]
    assert cards == [
        ("Tickets", "100", "2 open at the clock"),
        ("First response time", "median 45 min", "90th percentile 3.5 h"),
        ("First-contact resolution", "62.5%", "of 80 tickets"),
        ("Peak backlog", "4", "on 2024-03-05"),
    ]
    assert context["overview"]["status_map"] == [
        ("Status map", "my-desk"),
        ("Chosen", "given with --status-map"),
        ("Events it names", "75.0%"),
        ("Assignment read from", "the status map's assigned activities"),
    ]
    assert context["overview"]["age"]["facts"] == [
        ("Open tickets", "2"),
        ("Median age", "1.5 d"),
        ("90th percentile", "2.5 d"),
        ("Oldest", "2.6 d"),
    ]


def test_unmapped_activities_are_a_visible_warning() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    assert 'class="warning" role="note" data-warning="unmapped"' in page
    assert EN["sm_unmapped_warning"].format(count="2") in page
    assert table_rows(page, "unmapped") == [
        (None, ["Internal memo", "8"]),
        (None, ["Escalate", "2"]),
    ]
    kpi = small_kpi()
    kpi["status_map"]["unmapped_activities"] = {}
    page = render_report(kpi_only(kpi), lang="en")
    assert "data-warning" not in page
    assert EN["sm_all_named"] in page


def test_sla_attainment_table() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    assert table_rows(page, "sla-first_response") == [
        ("total", ["All tickets", "100", "60", "30", "10", "66.7%", ""]),
        ("group-head", ["Priority"]),
        (None, ["P2", "60", "44", "6", "10", "88.0%", ""]),
        (None, ["P1", "40", "16", "24", "0", "40.0%", ""]),
    ]
    sla = kpi_context(small_kpi(), lang=EN_WORDS)["sla"]
    first_response, resolution = sla["metrics"]
    # met, breached and running as shares of 120 px: 60, 30 and 10 of 100 tickets.
    assert first_response["overall"].bar == (72.0, 36.0, 12.0)
    assert [row.bar for row in first_response["groups"][0][1]] == [
        (88.0, 12.0, 20.0),
        (48.0, 72.0, 0.0),
    ]
    assert first_response["no_target"] is None
    assert resolution["no_target"] == "3 tickets have no target for this clock in the policy."
    assert sla["facts"] == [
        ("Figures at", "2024-04-30 16:00:00"),
        ("Clock paused while", "waiting on the customer"),
    ]


def test_breakdowns_mark_outliers_and_escape_group_names() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    assert table_rows(page, "breakdown-channel-first_response_time") == [
        ("worse", ["email", "50", "2.5 h", "2.0 h", "4.0 h", "+3.5", "worse"]),
        ("better", [HOSTILE, "38", "30 min", "25 min", "50 min", "-3.2", "better"]),
        (None, ["chat", "2", "10 min", "10 min", "15 min", "–", ""]),
    ]
    assert table_rows(page, "breakdown-hour-first_contact_resolution") == [
        ("worse", ["09:00", "40", "40.0%", "–", "–", "-4.0", "worse"]),
        (None, ["10:00", "40", "85.0%", "–", "–", "+2.9", ""]),
    ]
    assert "All tickets: 1.5 h; over-dispersion φ = 1.3." in page
    outliers = re.findall(r'<ul class="outliers">(.*?)</ul>', page, re.S)[0]
    assert re.findall(r'<li class="(\w+)">', outliers) == ["worse", "worse", "better"]
    assert (
        "Hour created “09:00”, first-contact resolution: 40.0% against 62.5% overall "
        "(40 tickets, z = -4.0)"
    ) in outliers
    assert "Channel “email”, first response time: 2.5 h against 1.5 h overall" in outliers
    # The hostile group name is text, never markup: no script element in the whole page.
    assert HOSTILE not in page
    assert html.escape(HOSTILE, quote=False) in page
    assert "<script" not in page


def test_pause_usage_table() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    assert table_rows(page, "pause-usage") == [
        ("more", ["Anna", "8", "6", "", "75.0%", "2.0 h", "+3.2", "more than peers"]),
        (None, ["Bo", "12", "2", "", "16.7%", "10 min", "-1.0", ""]),
    ]
    # (6 + 2) paused of (8 + 12) touched
    assert "All agents together put 40.0% of the tickets they touched" in page


def test_drift_page() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    drift = section(page, "kpi-drift")
    assert drift.count('<svg class="chart drift"') == 1
    assert drift.count('<line class="change"') == 1
    assert "<figcaption>Resolve ticket → Closed</figcaption>" in drift
    assert (
        '<span class="verdict better">shorter</span> From 2024-03-04: median 15 d '
        "(10th–90th percentile 15 d–15 d, 25 observations), against 30 d (15 d–45 d, "
        "40 observations) before."
    ) in drift
    assert "<strong>No change found in:</strong> First response time (1 periods)" in drift


def test_missing_sla_and_drift_are_explained() -> None:
    kpi = small_kpi()
    kpi["sla"] = None
    kpi["drift"] = None
    page = render_report(kpi_only(kpi), lang="en")
    assert f'<p class="note" data-missing="sla">{html.escape(EN["sla_missing"])}</p>' in page
    assert f'<p class="note" data-missing="drift">{EN["drift_missing"]}</p>' in page
    assert "sla-first_response" not in page


def test_kpi_only_report_has_no_process_map() -> None:
    page = render_report(kpi_only(small_kpi()), lang="en")
    anchors = re.findall(r'<h2 id="([\w-]+)">', page)
    assert anchors == ["findings", "kpi-overview", "kpi-sla", "kpi-breakdowns", "kpi-drift"]
    assert "<title>Service KPIs</title>" in page
    assert "sf-map-data" not in page and "Graphviz" not in page
    assert re.findall(r"""\b(?:src|href)\s*=\s*(?!["']?#)\S{0,40}""", page) == []
    assert len(page) < 100_000


def test_a_log_without_tickets() -> None:
    kpi = small_kpi()
    kpi.update(tickets=0, kpis=[], breakdowns=[], pause_usage=[], sla=None)
    kpi["status_map"]["unmapped_activities"] = {}
    kpi["flow"] = {
        "daily": [],
        "arrivals_by_hour": [0] * 24,
        "arrivals_by_weekday": [0] * 7,
        "resolutions_by_hour": [0] * 24,
        "resolutions_by_weekday": [0] * 7,
        "peak_backlog": 0,
        "peak_backlog_date": None,
        "backlog_age": {
            "open_tickets": 0,
            "median_age_s": None,
            "p90_age_s": None,
            "oldest_age_s": None,
            "buckets": [0] * 6,
        },
    }
    kpi["drift"]["series"] = []
    page = render_report(kpi_only(kpi), lang="en")
    for key in ("no_findings", "age_none", "bd_no_outliers", "bd_none", "pause_none"):
        assert f">{EN[key]}<" in page, key
    assert f">{EN['drift_no_series']}<" in page
    assert 'data-chart="flow"' not in page


def test_chinese_kpi_pages() -> None:
    page = render_report(kpi_only(small_kpi()), lang="zh")
    assert '<html lang="zh-CN">' in page
    for key in ("sec_kpi_overview", "sec_kpi_sla", "sec_kpi_breakdowns", "sec_kpi_drift"):
        assert f">{ZH[key]}<" in page
    assert table_rows(page, "kpis")[0] == (
        None,
        ["首次响应时间", "90", "1.5 小时", "45 分钟", "3.5 小时", "1.0 小时", "55.0%"],
    )
    assert table_rows(page, "breakdown-channel-first_response_time")[0] == (
        "worse",
        ["email", "50", "2.5 小时", "2.0 小时", "4.0 小时", "+3.5", "较差"],
    )
    assert (
        "自 2024-03-04 起：中位数 15 天（10–90 分位 15 天–15 天，25 次观测），此前为 30 天" in page
    )
    assert "按月统计，时区 Europe/Rome。" in page


# The demo log, computed by the real pipeline -------------------------------------------------


@pytest.fixture
def demo() -> dict[str, Any]:
    return demo_kpi()


def shown_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return groups[:30] + [group for group in groups[30:] if group["outlier"]]


def test_demo_kpi_report(demo: dict[str, Any]) -> None:
    page = render_report(kpi_only(demo), lang="en")
    assert len(table_rows(page, "kpis")) == len(demo["kpis"])
    # 4,580 tickets: the number of cases the diagnosis of the same log counts.
    assert f"{load_doc('helpdesk')['log']['cases']:,} tickets" in page
    for breakdown in demo["breakdowns"]:
        rows = table_rows(page, f"breakdown-{breakdown['dimension']}-{breakdown['kpi']}")
        shown = shown_groups(breakdown["groups"])
        assert [css for css, _ in rows] == [group["outlier"] for group in shown]
    # The demo's outlier: agent "Value 3" resolves 45.9% at first contact against 70.8%.
    (flagged,) = [
        cells
        for css, cells in table_rows(page, "breakdown-agent-first_contact_resolution")
        if css == "worse"
    ]
    assert flagged[:3] == ["Value 3", "836", "45.9%"]
    pause = table_rows(page, "pause-usage")
    assert (pause[0][0], pause[0][1][0]) == ("more", "Value 9")
    changed = [series for series in demo["drift"]["series"] if series["change_points"]]
    drift = section(page, "kpi-drift")
    assert drift.count('<svg class="chart drift"') == len(changed) > 0
    assert drift.count('<line class="change"') == sum(len(s["change_points"]) for s in changed)
    overall = demo["sla"]["first_response"]["overall"]
    assert table_rows(page, "sla-first_response")[0][1][:4] == [
        "All tickets",
        f"{overall['tickets']:,}",
        f"{overall['met']:,}",
        f"{overall['breached']:,}",
    ]


def test_demo_kpi_report_with_hostile_agent(demo: dict[str, Any]) -> None:
    for breakdown in demo["breakdowns"]:
        for group in breakdown["groups"]:
            if group["value"] == "Value 3":
                group["value"] = HOSTILE
    for agent in demo["pause_usage"]:
        if agent["agent"] == "Value 9":
            agent["agent"] = HOSTILE
    page = render_report(kpi_only(demo), lang="zh")
    assert HOSTILE not in page and "<script" not in page
    assert f"处理人“{html.escape(HOSTILE, quote=False)}”" in page
    assert table_rows(page, "pause-usage")[0][1][0] == HOSTILE


def test_diagnosis_with_kpi_section(demo: dict[str, Any]) -> None:
    doc = load_doc("helpdesk")
    doc["kpi"] = demo
    page = render_report(doc, lang="en")
    anchors = re.findall(r'<h2 id="([\w-]+)">', page)
    assert anchors == [
        "h-overview", "findings", "map", "bottlenecks", "heatmaps", "variants", "rework",
        "handovers", "workload", "kpi-overview", "kpi-sla", "kpi-breakdowns", "kpi-drift",
    ]  # fmt: skip
    kinds = re.findall(r'<li data-kind="(\w+)">', page)
    assert kinds[:2] == ["bottleneck_transition", "rework"]
    assert {"sla_attainment", "kpi_drift", "kpi_outlier", "pause_outlier"} <= set(kinds)
    assert kinds.index("kpi_drift") < kinds.index("pingpong")
    assert page.count("<script") == 3  # Graphviz, the map, the map's data


def test_diagnosis_without_kpi_section_is_unchanged() -> None:
    page = render_report(load_doc("small_diagnosis"), lang="en")
    assert "kpi-overview" not in page
    assert 'data-kind="kpi_' not in page
