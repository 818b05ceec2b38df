"""The simulation (what-if) and staffing pages, from documents written by hand.

The story: a desk promises that 80 % of each hour's tickets get a first answer within an hour.
The baseline misses that in one hour (79 %), the what-if (a peak) in three; an hour at exactly
80 % keeps the promise, and an hour without tickets breaks nothing. Times are shown in Berlin.
"""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, sync_playwright

from supportflow.report.i18n_sim import EN_SIM, ZH_SIM
from supportflow.report.simulation import (
    SIM_KPIS,
    Interval,
    broken_hours,
    change_flag,
    render_simulation,
    render_staffing,
)

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
START_S = datetime(2026, 11, 27, tzinfo=UTC).timestamp()  # a Friday, 01:00 in Berlin
BASELINE_SHARES = [0.95, 0.85, 0.79, None, 0.8, 0.9]
SCENARIO_SHARES = [0.9, 0.5, 0.6, None, 0.81, 0.799]


def hour(index: int) -> float:
    return START_S + 3600 * index


def hourly(shares: list[float | None], arrivals: float) -> list[dict[str, Any]]:
    return [
        {
            "hour_start_s": hour(index),
            "arrivals": 0.0 if share is None else arrivals,
            "first_response_within_target": share,
            "asa_s": None if share is None else 90.0,
        }
        for index, share in enumerate(shares)
    ]


def side(mean: float | None, low: float | None, high: float | None) -> dict[str, Any]:
    return {"mean": mean, "ci_low": low, "ci_high": high}


def sim_doc() -> dict[str, Any]:
    return {
        "generator": "supportflow test",
        "scenario": "desk.yaml",
        "what_if": "peak.yaml",
        "zone": "Europe/Berlin",
        "targets": {"first_response": 3600.0, "resolution": 86400.0, "attainment": 0.8},
        "schema_version": "1.0",
        "replications": 20,
        "seed": 1,
        "kpis": {
            "tickets": {"baseline": side(100, 95, 105), "scenario": side(300, 290, 310)},
            "asa_s": {"baseline": side(60, 50, 70), "scenario": side(20, 15, 25)},
            "first_response_p90_s": {
                "baseline": side(1800, 1700, 1900),
                "scenario": side(7200, 6000, 8400),
            },
            "first_response_within_target": {
                "baseline": side(0.85, 0.80, 0.90),
                "scenario": side(0.75, 0.70, 0.80),  # touches the baseline's interval
            },
            "resolution_within_target": {
                "baseline": side(0.9, None, None),
                "scenario": side(0.5, None, None),
            },
            "utilisation": {"baseline": side(None, None, None), "scenario": side(None, None, None)},
        },
        "hourly_baseline": hourly(BASELINE_SHARES, arrivals=5.0),
        "hourly_scenario": hourly(SCENARIO_SHARES, arrivals=15.0),
        "staffing": [
            {
                "hour_start_s": hour(1),
                "arrivals": 15.0,
                "agents_scheduled": 3,
                "agents_needed": 5,
                "service_level": 0.5,
            },
            {
                "hour_start_s": hour(2),
                "arrivals": 15.0,
                "agents_scheduled": 5,
                "agents_needed": 5,
                "service_level": 0.82,
            },
        ],
        "performance": {
            "runs": 40.0,
            "events": 123456.0,
            "compute_seconds": 3.2,
            "events_per_s": 38580.0,
        },
    }


def staff_doc() -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "generator": "supportflow test",
        "model": "erlang_a",
        "patience_s": 120.0,
        "aht_s": 300.0,
        "interval_s": 1800.0,
        "target": "80/20",
        "max_occupancy": 0.85,
        "shrinkage": 0.3,
        "peak_agents": 6,
        "intervals": [
            {
                "interval": f"Mon {slot // 2 + 9:02d}:{slot % 2 * 30:02d}",
                "arrivals": 10.0 + 5 * slot,
                "agents": 3 + slot,
                "agents_on_queue": 2 + slot,
                "service_level": 0.75 if slot == 2 else 0.85,
                "wait_probability": 0.3,
                "asa_s": 12.0,
                "occupancy": 0.7,
                "abandon_share": 0.02,
            }
            for slot in range(4)
        ],
    }


def listed_broken_hours(page: str) -> dict[int, str]:
    """``{hour start: sides that break it}`` of the broken-hours table."""
    table = page.split('data-table="sim-broken-hours"', 1)[1].split("</table>", 1)[0]
    return {int(start): sides for start, sides in re.findall(r'data-hour="(\d+)" data-broken="([^"]*)"', table)}  # fmt: skip


def kpi_flags(page: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-kpi="(\w+)" data-flag="(\w*)"', page))


def test_broken_hours_are_those_strictly_below_the_attainment() -> None:
    assert broken_hours(hourly(BASELINE_SHARES, 5.0), attainment=0.8) == [hour(2)]
    assert broken_hours(hourly(SCENARIO_SHARES, 15.0), attainment=0.8) == [
        hour(1),
        hour(2),
        hour(5),
    ]


@pytest.mark.parametrize(
    ("name", "baseline", "scenario", "flag"),
    [
        ("asa_s", Interval(60, 50, 70), Interval(20, 15, 25), "better"),
        ("asa_s", Interval(60, 50, 70), Interval(80, 71, 90), "worse"),
        ("asa_s", Interval(60, 50, 70), Interval(75, 70, 80), "same"),  # bounds touch
        ("first_response_within_target", Interval(0.8, 0.7, 0.85), Interval(0.9, 0.86, 0.95), "better"),
        ("abandon_rate", Interval(0.02, 0.01, 0.03), Interval(0.1, 0.08, 0.12), "worse"),
        ("tickets", Interval(100, 95, 105), Interval(300, 290, 310), "higher"),
        ("utilisation", Interval(0.9, 0.88, 0.92), Interval(0.6, 0.55, 0.65), "lower"),
        ("asa_s", Interval(60, None, None), Interval(20, None, None), ""),
        ("asa_s", Interval(60, 50, 70), None, ""),
    ],
)  # fmt: skip
def test_change_is_flagged_only_when_the_intervals_do_not_overlap(
    name: str, baseline: Interval, scenario: Interval | None, flag: str
) -> None:
    assert change_flag(SIM_KPIS[name], baseline, scenario) == flag


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_simulation_page_lists_exactly_the_broken_hours(lang: str) -> None:
    page = render_simulation(sim_doc(), lang=lang)
    assert listed_broken_hours(page) == {
        int(hour(1)): "scenario",
        int(hour(2)): "baseline scenario",
        int(hour(5)): "scenario",
    }
    # The chart shades the what-if's broken hours and dots every point below the target.
    assert page.count('<rect class="broken"') == 3
    assert page.count('<circle class="miss baseline"') == 1
    assert page.count('<circle class="miss scenario"') == 3
    assert page.count('<line class="target"') == 1
    # Hours on the Berlin clock: midnight UTC is 01:00 there.
    weekday = "周五" if lang == "zh" else "Fri"
    assert f"{weekday} 2026-11-27 02:00" in page
    assert "(Europe/Berlin)" in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_kpi_table_flags_the_certain_changes(lang: str) -> None:
    page = render_simulation(sim_doc(), lang=lang)
    assert kpi_flags(page) == {
        "tickets": "higher",
        "asa_s": "better",
        "first_response_p90_s": "worse",
        "first_response_within_target": "same",
        "resolution_within_target": "",
        "utilisation": "",
    }
    changes = page.split('data-list="changes"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'data-kpi="(\w+)"', changes) == ["tickets", "asa_s", "first_response_p90_s"]


def test_english_words_and_durations() -> None:
    page = render_simulation(sim_doc(), lang="en")
    assert "<h1>What-if simulation</h1>" in page
    assert "1.0 min [50 s, 1.2 min]" in page  # average speed of answer, baseline
    assert "2.0 h [1.7 h, 2.3 h]" in page  # first response p90, what-if
    assert "+1.5 h (+300.0%)" in page
    assert "-10.0 pp" in page
    assert "Baseline: 1 of 5 hours with tickets fall below 80.0%." in page
    assert "What-if: 3 of 5 hours with tickets fall below 80.0%." in page
    assert "20 replications per side, seed 1." in page
    assert (
        "40 runs simulated 123,456 events in 3.2 s of computing (38,580 events a second)." in page
    )


def test_chinese_words() -> None:
    page = render_simulation(sim_doc(), lang="zh")
    assert '<html lang="zh-CN">' in page
    assert "<h1>假设情景模拟</h1>" in page
    assert "1.0 分钟 [50 秒，1.2 分钟]" in page
    assert "假设情景：在有工单的 5 个小时中，有 3 个低于 80.0%。" in page
    for english in ("What-if", "Baseline", "Hour starting", "replications", "Tickets"):
        assert english not in page


def test_staffing_rows_mark_the_hours_short_of_agents() -> None:
    page = render_simulation(sim_doc(), lang="en")
    table = page.split('data-table="sim-staffing"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<tr data-hour="(\d+)"( class="short")?>', table) == [
        (str(int(hour(1))), ' class="short"'),
        (str(int(hour(2))), ""),
    ]


def test_baseline_only_has_no_what_if_column() -> None:
    doc = sim_doc()
    doc.update(what_if=None, hourly_scenario=None, zone=None)
    for kpi in doc["kpis"].values():
        del kpi["scenario"]
    del doc["staffing"]
    page = render_simulation(doc, lang="en")
    assert "What-if</th>" not in page
    assert 'data-list="changes"' not in page
    assert listed_broken_hours(page) == {int(hour(2)): "baseline"}
    assert page.count('<rect class="broken"') == 1  # shaded for the baseline now
    assert set(kpi_flags(page).values()) == {""}
    assert "Times shown in</dt><dd>UTC" in page
    assert "Fri 2026-11-27 02:00" in page  # 02:00 UTC is hour 2


def test_without_a_first_response_target_no_hour_is_judged() -> None:
    doc = sim_doc()
    doc["targets"]["first_response"] = None
    page = render_simulation(doc, lang="en")
    assert 'data-table="sim-broken-hours"' not in page
    assert 'class="broken"' not in page
    assert "sets no first-response target" in page
    assert page.count('data-chart="hourly"') == 1


def test_nan_from_the_json_is_shown_as_unknown() -> None:
    doc = sim_doc()
    doc["kpis"]["asa_s"] = {"baseline": side(float("nan"), None, None)}
    assert kpi_flags(render_simulation(doc, lang="en"))["asa_s"] == ""


def test_unknown_zone_and_language_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        render_simulation({**sim_doc(), "zone": "Mars/Olympus"})
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        render_simulation(sim_doc(), lang="fr")
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        render_staffing(staff_doc(), lang="fr")


def test_hostile_text_is_escaped_and_nothing_loads_from_outside() -> None:
    doc = sim_doc()
    doc["scenario"] = HOSTILE
    doc["what_if"] = HOSTILE
    doc["generator"] = HOSTILE
    staffing = staff_doc()
    staffing["intervals"][0]["interval"] = HOSTILE
    staffing["target"] = HOSTILE
    for page in (
        render_simulation(doc, lang="en"),
        render_simulation(doc, lang="zh"),
        render_staffing(staffing, lang="en"),
    ):
        assert "<script" not in page
        assert "<img" not in page
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
        assert "http:" not in page and "https:" not in page
        assert re.findall(r'\b(?:src|href)="(?!#)', page) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_staffing_page(lang: str) -> None:
    page = render_staffing(staff_doc(), lang=lang)
    rows = page.split('data-table="staffing"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<tr><td>(Mon [\d:]+)</td>", rows) == [
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:00",
        "Mon 10:30",
    ]
    assert len(re.findall(r"<th[ >]", rows)) == 9  # with the abandon column of Erlang A
    assert page.count('<path class="step agents"') == 1
    assert page.count('<path class="step on-queue"') == 1
    assert page.count('<path class="line service-level"') == 1
    assert page.count('<circle class="miss"') == 1  # the 75 % interval, below 80 %
    if lang == "en":
        assert "80/20 · 80.0% of arrivals answered within 20 s" in page
        assert "Erlang A (customers abandon)" in page
    else:
        assert "80/20 · 80.0% 的请求在 20 秒内得到应答" in page
        assert "Agents" not in page


def test_staffing_page_for_erlang_c_and_an_average_wait_target() -> None:
    doc = staff_doc()
    doc.update(model="erlang_c", patience_s=None, target="asa:30", max_occupancy=None)
    for row in doc["intervals"]:
        row.update(abandon_share=None, service_level=None)
    page = render_staffing(doc, lang="en")
    assert "asa:30 · average wait at most 30 s" in page
    assert "Erlang C (nobody abandons)" in page
    header = page.split('data-table="staffing"', 1)[1].split("</thead>")[0]
    assert len(re.findall(r"<th[ >]", header)) == 8
    assert '<line class="target"' not in page


def test_a_plan_of_one_interval_still_draws_its_lines() -> None:
    doc = staff_doc()
    doc["intervals"] = doc["intervals"][:1]
    page = render_staffing(doc, lang="en")
    paths = dict(re.findall(r'<path class="([\w -]+)" d="([^"]*)"', page))
    assert set(paths) == {"step agents", "step on-queue", "line service-level", "line occupancy"}
    assert all("H" in path for path in paths.values())  # a segment, not a lone point


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_every_word() -> None:
    assert EN_SIM.keys() == ZH_SIM.keys()
    assert [key for key in EN_SIM if placeholders(EN_SIM[key]) != placeholders(ZH_SIM[key])] == []
    assert [key for key in EN_SIM if EN_SIM[key] == ZH_SIM[key]] == []
    assert all(f"sim_kpi_{name}" in EN_SIM for name in SIM_KPIS)


# In a real browser: Debian's Chromium, headless, offline (as in test_report_browser.py).

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What a page said and tried while it ran: console errors, script errors, outside requests."""

    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


def open_page(browser: Browser, path: Path, page_html: str) -> tuple[Page, PageLog]:
    """``page_html`` opened from a ``file://`` URL with every other request blocked and logged."""
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = PageLog()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            log.errors.append(message.text)

    def only_local(route: Route, request: Request) -> None:
        if request.url.startswith("file://"):
            route.continue_()
        else:
            log.outside_requests.append(request.url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    page.route("**/*", only_local)
    page.goto(path.as_uri())
    return page, log


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pages_in_chromium(browser: Browser, tmp_path: Path, lang: str) -> None:
    doc = sim_doc()
    doc["scenario"] = HOSTILE
    page, log = open_page(browser, tmp_path / "sim.html", render_simulation(doc, lang=lang))
    kpis = page.locator("svg[data-chart=kpi-intervals]")
    assert kpis.locator("rect.sim-baseline").count() == 5  # utilisation has no mean
    assert kpis.locator("rect.sim-scenario").count() == 5
    assert kpis.locator("path.whisker").count() == 8  # resolution attainment has no interval
    hours = page.locator("svg[data-chart=hourly]")
    assert hours.locator("rect.sim-baseline").count() == 5  # one hour had no tickets
    assert hours.locator("rect.sim-scenario").count() == 5
    assert hours.locator("rect.broken").count() == 3
    assert hours.locator("path.line").count() == 2
    assert hours.locator("line.target").count() == 1
    assert page.eval_on_selector("svg[data-chart=hourly] path.line", "p => p.getBBox().width") > 500
    assert HOSTILE in page.inner_text("header")
    assert page.evaluate("window.__pwned") is None
    assert (log.errors, log.outside_requests) == ([], [])
    page.close()

    staffing = staff_doc()
    staffing["intervals"][1]["interval"] = HOSTILE
    page, log = open_page(browser, tmp_path / "staff.html", render_staffing(staffing, lang=lang))
    plan = page.locator("svg[data-chart=staffing]")
    assert plan.locator("rect.arrivals").count() == 4
    assert plan.locator("path.step").count() == 2
    assert plan.locator("path.line").count() == 2
    assert HOSTILE in page.inner_text("table[data-table=staffing]")
    assert page.evaluate("window.__pwned") is None
    assert (log.errors, log.outside_requests) == ([], [])
    page.close()


def test_render_does_not_change_the_document() -> None:
    doc = sim_doc()
    before = copy.deepcopy(doc)
    render_simulation(doc, lang="en")
    assert doc == before
