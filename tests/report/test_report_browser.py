"""The report in a real browser: headless Debian Chromium, opened from a file, offline.

These tests fail, never skip, when Chromium is missing: the report's process map only exists
in a browser, so a run without one has not tested it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kpi_docs import HOSTILE, demo_kpi, kpi_only, small_kpi
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from report_docs import load_doc, replace_text

from supportflow.report import render_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DURATION_LABEL = re.compile(r"^-?[\d,]+(\.\d)? (s|min|h|d|秒|分钟|小时|天)$")
MAP_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(apt-get install chromium) to run the report's browser tests",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What the page said and tried while it ran: console messages, errors, outside requests."""

    console: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        return [m.text for m in self.console if m.type == "error"] + self.page_errors


def open_report(browser: Browser, tmp_path: Path, page_html: str) -> tuple[Page, PageLog]:
    """``page_html`` opened from a ``file://`` URL with every other request blocked and logged."""
    path = tmp_path / "report.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = PageLog()
    page.on("console", lambda message: log.console.append(message))
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))

    def only_local(route: Any, request: Request) -> None:
        if request.url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:
            log.outside_requests.append(request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(path.as_uri())
    return page, log


def wait_for_render(page: Page, *, after: int) -> dict[str, int]:
    """Wait until the map has been drawn more than ``after`` times; return its counts."""
    page.wait_for_function(
        "n => Number(document.getElementById('map-canvas').dataset.renders || 0) > n",
        arg=after,
        timeout=MAP_TIMEOUT_MS,
    )
    canvas = page.locator("#map-canvas")
    assert canvas.get_attribute("data-state") == "ready", page.inner_text("#map-error")
    return {
        "renders": int(canvas.get_attribute("data-renders") or 0),
        "nodes": page.locator("#map-canvas svg g.node").count(),
        "edges": page.locator("#map-canvas svg g.edge").count(),
        "data_nodes": int(canvas.get_attribute("data-nodes") or 0),
        "data_arrows": int(canvas.get_attribute("data-arrows") or 0),
    }


def set_slider(page: Page, position: str) -> None:
    """Move the rare-path slider to ``"min"``, ``"max"`` or a stop number, as a reader would."""
    page.eval_on_selector(
        "#map-threshold",
        "(slider, to) => { slider.value = to === 'max' ? slider.max : to === 'min' ? slider.min"
        " : to; slider.dispatchEvent(new Event('input', {bubbles: true})); }",
        position,
    )


@pytest.mark.parametrize(
    ("doc_name", "lang", "screenshot"),
    [
        ("helpdesk", "en", "report-en.png"),
        ("helpdesk", "zh", "report-zh.png"),
        ("small_diagnosis", "en", None),
    ],
)
def test_report_in_chromium(
    browser: Browser, tmp_path: Path, doc_name: str, lang: str, screenshot: str | None
) -> None:
    doc = load_doc(doc_name)
    page, log = open_report(browser, tmp_path, render_report(doc, lang=lang))
    first = wait_for_render(page, after=0)
    opening_stop = page.eval_on_selector("#map-threshold", "slider => slider.value")

    # With every path shown, every activity has its box, plus start and end.
    set_slider(page, "min")
    full = wait_for_render(page, after=first["renders"])
    boxes = len(doc["activities"]) + 2
    arrows = len(doc["dfg"]) + len(doc["start_activities"]) + len(doc["end_activities"])
    assert (full["nodes"], full["edges"]) == (boxes, arrows)
    assert (full["data_nodes"], full["data_arrows"]) == (boxes, arrows)

    # Hiding rare paths draws a smaller graph that still has start, end and arrows.
    set_slider(page, "max")
    sparse = wait_for_render(page, after=full["renders"])
    assert 0 < sparse["edges"] < full["edges"]
    assert 2 <= sparse["nodes"] <= full["nodes"]

    # The waiting-time view labels arrows between activities with durations.
    page.check("input[name=map-view][value=waiting]")
    waiting = wait_for_render(page, after=sparse["renders"])
    assert waiting["edges"] == sparse["edges"]
    assert page.locator("#map-canvas").get_attribute("data-view") == "waiting"
    labels = page.locator("#map-canvas g.edge text").all_text_contents()
    assert labels and all(DURATION_LABEL.match(label) for label in labels), labels

    # Static charts are inline SVG with their rectangles.
    assert page.locator("svg[data-chart=arrivals] rect.cell").count() == 7 * 24
    assert page.locator("svg[data-chart=median-wait] rect.cell").count() == 7 * 24
    workload_bars = page.locator("svg[data-chart=workload-resources] rect.bar").count()
    assert workload_bars == min(len(doc["workload"]["resources"]), 30) > 0
    assert page.locator("table[data-table=variants] svg.share rect.bar").count() == min(
        len(doc["variants"]), 50
    )

    expected_lang = "zh-CN" if lang == "zh" else "en"
    assert page.get_attribute("html", "lang") == expected_lang
    if lang == "zh":
        assert "流程图" in page.inner_text("#map")
        assert "天" in " ".join(labels)

    if screenshot:  # of the map as it opens
        page.check("input[name=map-view][value=frequency]")
        frequency = wait_for_render(page, after=waiting["renders"])
        set_slider(page, opening_stop)
        wait_for_render(page, after=frequency["renders"])
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)

    assert log.errors() == []
    assert log.outside_requests == []
    page.close()


def test_hostile_activity_name_is_shown_not_run(browser: Browser, tmp_path: Path) -> None:
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    doc = replace_text(load_doc("small_diagnosis"), "Wait", hostile)
    page, log = open_report(browser, tmp_path, render_report(doc, lang="en"))
    first = wait_for_render(page, after=0)
    set_slider(page, "min")
    wait_for_render(page, after=first["renders"])
    node_texts = " ".join(page.locator("#map-canvas g.node text").all_text_contents())
    assert hostile in node_texts
    assert hostile in page.inner_text("table[data-table=variants]")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0
    assert log.errors() == []
    page.close()


def test_render_failure_is_shown(browser: Browser, tmp_path: Path) -> None:
    page_html = render_report(load_doc("small_diagnosis"), lang="en")
    broken = page_html.replace("globalThis.supportflowGraphviz=", "globalThis.somethingElse=", 1)
    assert broken != page_html
    page, log = open_report(browser, tmp_path, broken)
    page.wait_for_selector("#map-error:not([hidden])", timeout=MAP_TIMEOUT_MS)
    assert page.inner_text("#map-error") == (
        "The process map could not be drawn: the Graphviz script did not load"
    )
    assert page.locator("#map-canvas").get_attribute("data-state") == "error"
    assert any("process map" in text for text in log.errors())
    page.close()


def check_kpi_charts(page: Page, kpi: dict[str, Any]) -> None:
    """The KPI pages' SVG charts are in the page and drawn with a size."""
    months = {day["date"][:7] for day in kpi["flow"]["daily"]}  # the demo spans four years
    assert page.locator("svg[data-chart=flow] rect.arrivals").count() == len(months)
    assert page.locator("svg[data-chart=flow] rect.resolutions").count() == len(months)
    assert page.locator("svg[data-chart=flow] path.backlog").count() == 1
    assert (
        page.eval_on_selector("svg[data-chart=flow] path.backlog", "p => p.getBBox().width") > 500
    )
    assert page.locator("svg[data-chart=load-by-hour] rect").count() == 2 * 24
    assert page.locator("svg[data-chart=load-by-weekday] rect").count() == 2 * 7
    assert page.locator("svg[data-chart=backlog-age] rect.bar").count() == 6
    changed = [series for series in kpi["drift"]["series"] if series["change_points"]]
    assert page.locator("svg[data-chart=drift]").count() == len(changed) > 0
    assert page.locator("svg[data-chart=drift] polyline.median").count() == len(changed)
    assert page.locator("svg[data-chart=drift] line.change").count() == sum(
        len(series["change_points"]) for series in changed
    )
    assert page.locator("svg.sla rect.met").count() == page.locator("svg.sla").count() > 0
    assert page.locator("table[data-table^=breakdown-] tr.worse").count() >= 1
    assert page.locator("table[data-table=pause-usage] tr.more").count() >= 1


@pytest.mark.parametrize(("lang", "screenshot"), [("en", "kpi-en.png"), ("zh", "kpi-zh.png")])
def test_kpi_report_in_chromium(
    browser: Browser, tmp_path: Path, lang: str, screenshot: str
) -> None:
    kpi = demo_kpi()
    page, log = open_report(browser, tmp_path, render_report(kpi_only(kpi), lang=lang))
    check_kpi_charts(page, kpi)
    assert page.locator("#map-canvas").count() == 0
    headings = page.locator("h2").all_inner_texts()
    if lang == "zh":
        assert headings == ["主要发现", "服务指标", "SLA 达成情况", "分组对比", "随时间的变化"]
    else:
        assert headings == [
            "Key findings", "Service KPIs", "SLA attainment", "Breakdowns", "Changes over time"
        ]  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    assert log.errors() == []
    assert log.outside_requests == []
    page.close()


@pytest.mark.parametrize(
    ("lang", "screenshot"), [("en", "report-kpi-en.png"), ("zh", "report-kpi-zh.png")]
)
def test_diagnosis_with_kpis_in_chromium(
    browser: Browser, tmp_path: Path, lang: str, screenshot: str
) -> None:
    doc = load_doc("helpdesk")
    doc["kpi"] = demo_kpi()
    page, log = open_report(browser, tmp_path, render_report(doc, lang=lang))
    wait_for_render(page, after=0)
    check_kpi_charts(page, doc["kpi"])
    assert page.locator("svg[data-chart=arrivals] rect.cell").count() == 7 * 24
    assert page.locator("ol.findings li[data-kind=kpi_drift]").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    assert log.errors() == []
    assert log.outside_requests == []
    page.close()


def test_hostile_group_name_is_shown_not_run(browser: Browser, tmp_path: Path) -> None:
    page, log = open_report(browser, tmp_path, render_report(kpi_only(small_kpi()), lang="en"))
    table = page.inner_text("table[data-table=breakdown-channel-first_response_time]")
    assert HOSTILE in table
    assert HOSTILE in page.inner_text("ul.outliers")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 0
    assert log.errors() == []
    page.close()
