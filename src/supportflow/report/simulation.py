"""The what-if simulation and the staffing plan as self-contained HTML pages, in English or Chinese.

A simulation asks "what happens to the desk if …": ``supportflow simulate run`` plays the
calibrated desk (the baseline) and the changed one (the what-if) twenty times or so on the same
random numbers and writes every KPI's mean with its 95 % interval. :func:`render_simulation`
turns that document into a page a team lead can act on: which KPIs move for certain (their two
intervals do not overlap), how arrivals and first-response attainment go hour by hour, and which
hours fall below the attainment the desk promised, the hours that break the SLA.
:func:`render_staffing` does the same for ``supportflow staff --json``: per interval, the agents
Erlang C (or A) asks for, and the service level and occupancy they reach.

The pages share the diagnosis report's stylesheet and look (:mod:`.html`). Their charts are
inline SVG (geometry in :mod:`.sim_charts`, markup in ``templates/simulation.html.j2``), and
the template escapes every value: scenario file names and interval labels are the user's text.
Nothing is loaded from outside the file.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from markupsafe import Markup

from supportflow.report import assets
from supportflow.report.i18n import Language, language
from supportflow.report.i18n_sim import EN_SIM, ZH_SIM
from supportflow.report.sim_charts import (
    HourSeries,
    IntervalChart,
    IntervalSide,
    PlanSeries,
    StackedChart,
    finite,
    hour_slots,
    hourly_chart,
    interval_chart,
    plan_chart,
)
from supportflow.simulate.experiment import breaks_sla

BROKEN_HOURS_SHOWN = 500
"""At most this many broken hours are listed; a year-long run could otherwise list thousands."""


@dataclass(frozen=True)
class SimKpi:
    """How a KPI of the simulation document is shown: its unit (``count``, ``share``,
    ``duration``, ``number``) and which way is better, ``None`` when neither is (more tickets,
    busier agents: news, not a verdict)."""

    name: str
    unit: str
    better: str | None


SIM_KPIS = {
    kpi.name: kpi
    for kpi in (
        SimKpi("tickets", "count", None),
        SimKpi("abandon_rate", "share", "lower"),
        SimKpi("asa_s", "duration", "lower"),
        SimKpi("queue_wait_s", "duration", "lower"),
        SimKpi("first_response_mean_s", "duration", "lower"),
        SimKpi("first_response_p90_s", "duration", "lower"),
        SimKpi("first_response_within_target", "share", "higher"),
        SimKpi("resolution_mean_s", "duration", "lower"),
        SimKpi("resolution_median_s", "duration", "lower"),
        SimKpi("resolution_p90_s", "duration", "lower"),
        SimKpi("resolution_within_target", "share", "higher"),
        SimKpi("case_duration_median_s", "duration", "lower"),
        SimKpi("utilisation", "share", None),
    )
}

FLAG_CSS = {"better": "better", "worse": "worse", "higher": "changed", "lower": "changed"}
"""The row class of each change flag; a change with no good direction is neither green nor red."""


def sim_kpi(name: str) -> SimKpi:
    """The display rule of KPI ``name``; a KPI added later is shown plainly, unit by suffix."""
    return SIM_KPIS.get(name) or SimKpi(name, "duration" if name.endswith("_s") else "number", None)


@dataclass(frozen=True)
class Interval:
    """A mean over replications and its 95 % interval (bounds ``None`` when unknown)."""

    mean: float
    low: float | None
    high: float | None


def read_interval(side: dict[str, Any] | None) -> Interval | None:
    """One side of a KPI (``{mean, ci_low, ci_high}``), or ``None`` when it has no mean."""
    if side is None or (mean := finite(side.get("mean"))) is None:
        return None
    return Interval(mean, finite(side.get("ci_low")), finite(side.get("ci_high")))


def change_flag(kpi: SimKpi, baseline: Interval | None, scenario: Interval | None) -> str:
    """``better`` or ``worse`` (``higher`` or ``lower`` for a KPI with no good direction) when the
    two 95 % intervals do not overlap, ``same`` when they do, ``""`` when a side is unknown."""
    if baseline is None or scenario is None:
        return ""
    base_low, base_high = baseline.low, baseline.high
    scenario_low, scenario_high = scenario.low, scenario.high
    if base_low is None or base_high is None or scenario_low is None or scenario_high is None:
        return ""
    if base_low <= scenario_high and scenario_low <= base_high:
        return "same"
    went_up = scenario.mean > baseline.mean
    if kpi.better is None:
        return "higher" if went_up else "lower"
    return "better" if went_up == (kpi.better == "higher") else "worse"


def format_value(value: float | None, unit: str, *, lang: Language) -> str:
    """A figure in its unit: durations in s/min/h/d, shares as percentages, counts with
    separators; an en dash when unknown."""
    if value is None:
        return "–"
    if unit == "duration":
        return lang.numbers.duration(value)
    if unit == "share":
        # An interval's low end can dip below zero; percent() is for shares in 0..1.
        return lang.numbers.percent(value) if value >= 0 else f"{value * 100:.1f}%"
    if unit == "count":
        return lang.numbers.count(value) if abs(value) >= 10 else f"{value:,.1f}"
    return f"{value:,.2f}"


def format_difference(baseline: float, scenario: float, unit: str, *, lang: Language) -> str:
    """What-if minus baseline: percentage points for shares, else the unit and the relative
    change, ``+12 min (+25.0%)``."""
    delta = scenario - baseline
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    if unit == "share":
        return lang.say("sim_points", sign=sign, value=f"{abs(delta) * 100:.1f}")
    text = sign + format_value(abs(delta), unit, lang=lang)
    if baseline == 0:
        return text
    return lang.say("sim_relative", difference=text, share=f"{delta / baseline:+.1%}")


def sim_language(code: str) -> Language:
    """The report's :class:`Language` for ``code`` with the simulation pages' words added.

    Raises ``ValueError`` for a language other than ``en`` and ``zh``."""
    base = language(code)
    return dataclasses.replace(base, text={**base.text, **(ZH_SIM if code == "zh" else EN_SIM)})


def document_zone(doc: dict[str, Any]) -> tzinfo:
    """The zone the document's hours are shown in: its ``zone`` key, else UTC.

    Raises ``ValueError`` for a zone the time-zone database does not know."""
    name = doc.get("zone")
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} in the document") from exc


def hour_label(hour_start_s: float, *, zone: tzinfo, lang: Language) -> str:
    """An hour's start on the reader's clock: ``Fri 2026-11-27 14:00``."""
    moment = datetime.fromtimestamp(hour_start_s, tz=zone)
    return f"{lang.weekdays[moment.weekday()]} {moment:%Y-%m-%d %H:%M}"


def broken_hours(rows: Sequence[dict[str, Any]], *, attainment: float) -> list[float]:
    """The starts of the hours that break the SLA, by the simulator's own rule
    (:func:`supportflow.simulate.experiment.breaks_sla`: open, with tickets, below target)."""
    return [float(row["hour_start_s"]) for row in rows if breaks_sla(row, attainment)]


@functools.cache
def _environment() -> jinja2.Environment:
    # Built on first use, not at import, and kept; the same settings as the diagnosis report.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("supportflow.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _render(context: dict[str, Any], *, words: Language) -> str:
    context |= {"t": words, "n": words.numbers, "stylesheet": Markup(assets.stylesheet())}
    return _environment().get_template("simulation.html.j2").render(context)


def render_simulation(doc: dict[str, Any], *, lang: str = "en") -> str:
    """The HTML page of a ``supportflow simulate run`` document in language ``lang``.

    The page has the experiment (scenario, what-if, targets), the KPI table of baseline and
    what-if with their 95 % intervals and the changes that are certain, a chart of the means
    with their intervals, arrivals and first-response attainment hour by hour with the hours
    below ``targets.attainment`` shaded and listed, the staffing rows when the document has
    them, and the replications, seed and speed of the run. Hours are shown in the document's
    ``zone`` (UTC without one).

    Raises:
        ValueError: ``lang`` is not ``en`` or ``zh``, or ``zone`` is not a known time zone.
        KeyError: the document lacks a key its contract guarantees.
    """
    words = sim_language(lang)
    zone = document_zone(doc)
    what_if = doc.get("what_if") is not None
    sides = ("baseline", "scenario") if what_if else ("baseline",)
    targets = doc["targets"]
    context = {
        "page": "simulation",
        "generator": doc["generator"],
        "schema_version": doc["schema_version"],
        "scenario": str(doc["scenario"]),
        "what_if": None if not what_if else str(doc["what_if"]),
        "sides": sides,
        "facts": _experiment_facts(doc, zone=zone, lang=words),
        "kpis": kpi_rows(doc["kpis"], what_if=what_if, lang=words),
        "interval_chart_geometry": _interval_chart(doc["kpis"], sides=sides, lang=words),
        "hours": _hours_section(doc, sides=sides, zone=zone, lang=words),
        "staffing": _staffing_rows(doc.get("staffing") or [], zone=zone, lang=words),
        "zone": getattr(zone, "key", "UTC"),
        "footer": _footer(doc, lang=words),
        "footer_replications": doc["replications"],
        "fr_target": format_value(finite(targets.get("first_response")), "duration", lang=words),
    }
    return _render(context, words=words)


def _experiment_facts(
    doc: dict[str, Any], *, zone: tzinfo, lang: Language
) -> list[tuple[str, str]]:
    targets = doc["targets"]
    none = lang.say("sim_no_target")

    def target(key: str) -> str:
        seconds = finite(targets.get(key))
        return none if seconds is None else format_value(seconds, "duration", lang=lang)

    return [
        (lang.say("sim_fact_scenario"), str(doc["scenario"])),
        (lang.say("sim_fact_what_if"), str(doc.get("what_if") or lang.say("sim_fact_none"))),
        (lang.say("sim_fact_replications"), lang.numbers.count(doc["replications"])),
        (lang.say("sim_fact_seed"), str(doc["seed"])),
        (lang.say("sim_fact_first_response_target"), target("first_response")),
        (lang.say("sim_fact_resolution_target"), target("resolution")),
        (
            lang.say("sim_fact_attainment"),
            lang.say("sim_fact_attainment_value", share=lang.numbers.percent(_attainment(doc))),
        ),
        (lang.say("sim_fact_zone"), getattr(zone, "key", "UTC")),
    ]


def _attainment(doc: dict[str, Any]) -> float:
    """The share of an hour's tickets that must meet the first-response target (the scenario
    model's default when the document leaves it out)."""
    return float(doc["targets"].get("attainment", 0.8))


@dataclass(frozen=True)
class KpiRow:
    """One KPI of the table: label, both sides as ``mean [low, high]``, difference, change."""

    name: str
    label: str
    baseline: str
    scenario: str
    difference: str
    flag: str
    flag_css: str
    flag_text: str


def kpi_label(name: str, *, lang: Language) -> str:
    """A simulation KPI's name for the reader; an unknown one as the document names it."""
    return lang.text.get(f"sim_kpi_{name}", name)


def interval_text(interval: Interval | None, unit: str, *, lang: Language) -> str:
    """``12 min [10 min, 14 min]``, the mean alone without bounds, an en dash without a mean."""
    if interval is None:
        return "–"
    mean = format_value(interval.mean, unit, lang=lang)
    if interval.low is None or interval.high is None:
        return mean
    low, high = (format_value(bound, unit, lang=lang) for bound in (interval.low, interval.high))
    return lang.say("sim_interval", mean=mean, low=low, high=high)


def kpi_rows(kpis: dict[str, Any], *, what_if: bool, lang: Language) -> list[KpiRow]:
    """The KPI table of a simulation document's ``kpis``, in the document's order."""
    rows = []
    for name, sides in kpis.items():
        kpi = sim_kpi(name)
        base = read_interval(sides.get("baseline"))
        scenario = read_interval(sides.get("scenario")) if what_if else None
        flag = change_flag(kpi, base, scenario)
        difference = "–"
        if base is not None and scenario is not None:
            difference = format_difference(base.mean, scenario.mean, kpi.unit, lang=lang)
        rows.append(
            KpiRow(
                name=name,
                label=kpi_label(name, lang=lang),
                baseline=interval_text(base, kpi.unit, lang=lang),
                scenario=interval_text(scenario, kpi.unit, lang=lang),
                difference=difference,
                flag=flag,
                flag_css=FLAG_CSS.get(flag, ""),
                flag_text=lang.say(f"sim_verdict_{flag}") if flag else "",
            )
        )
    return rows


def _interval_chart(kpis: dict[str, Any], *, sides: Sequence[str], lang: Language) -> IntervalChart:
    groups = []
    for name, values in kpis.items():
        kpi, label = sim_kpi(name), kpi_label(name, lang=lang)
        intervals = {side: read_interval(values.get(side)) for side in sides}
        drawn = []
        for side, interval in intervals.items():
            text = interval_text(interval, kpi.unit, lang=lang)
            tooltip = lang.say(
                "sim_tip_interval", side=lang.say(f"sim_legend_{side}"), kpi=label, value=text
            )
            mean, low, high = (
                (None, None, None) if interval is None else dataclasses.astuple(interval)
            )
            drawn.append(IntervalSide(f"sim-{side}", mean, low, high, text, tooltip))
        flag = change_flag(kpi, intervals["baseline"], intervals.get("scenario"))
        groups.append((name, label, FLAG_CSS.get(flag, ""), drawn))
    return interval_chart(groups)


@dataclass(frozen=True)
class HoursSection:
    """The hour-by-hour chart, how many hours each side breaks, and the broken hours' rows
    (at most :data:`BROKEN_HOURS_SHOWN` of ``total``)."""

    chart: StackedChart | None
    has_target: bool
    summary: list[str]
    broken: list[dict[str, Any]]
    total: int
    none_text: str


def _hours_section(
    doc: dict[str, Any], *, sides: Sequence[str], zone: tzinfo, lang: Language
) -> HoursSection:
    tables = {"baseline": doc["hourly_baseline"], "scenario": doc.get("hourly_scenario") or []}
    first_s, series = hour_slots([(side, tables[side]) for side in sides])
    has_target = finite(doc["targets"].get("first_response")) is not None
    attainment = _attainment(doc)
    share = lang.numbers.percent(attainment)
    fr_target = format_value(finite(doc["targets"].get("first_response")), "duration", lang=lang)
    section = HoursSection(None, has_target, [], [], 0, lang.say("sim_broken_none", share=share))
    if not series:
        return section
    chart = hourly_chart(
        series,
        first_s=first_s,
        attainment=attainment if has_target else None,
        zone=zone,
        titles=(lang.say("sim_panel_arrivals"), lang.say("sim_panel_attainment", target=fr_target)),
        tooltips=_hour_tooltips(first_s, series, zone=zone, lang=lang),
        target_tooltip=lang.say("sim_tip_target", share=share),
    )
    if not has_target:
        # Without a first-response target every ticket counts as missed: no hour can be judged.
        return dataclasses.replace(section, chart=chart)
    broken = {side: set(broken_hours(tables[side], attainment=attainment)) for side in sides}
    summary = [
        lang.say(
            "sim_broken_summary",
            side=lang.say(f"sim_col_{side}"),
            broken=lang.numbers.count(len(broken[side])),
            hours=lang.numbers.count(
                sum(finite(r.get("first_response_within_target")) is not None for r in tables[side])
            ),
            share=share,
        )
        for side in sides
    ]
    rows = _broken_rows(tables, broken, sides=sides, zone=zone, lang=lang)
    return dataclasses.replace(
        section, chart=chart, summary=summary, broken=rows[:BROKEN_HOURS_SHOWN], total=len(rows)
    )


def _hour_tooltips(
    first_s: float, series: Sequence[HourSeries], *, zone: tzinfo, lang: Language
) -> list[str]:
    """Per hour: its start, and each side's tickets and attainment, one side a line."""
    key = "sim_tip_hour_side" if len(series) > 1 else "sim_tip_hour"
    tooltips = []
    for index in range(len(series[0].arrivals)):
        hour = hour_label(first_s + 3600 * index, zone=zone, lang=lang)
        lines = [
            lang.say(
                key,
                side=lang.say(f"sim_legend_{one.side}"),
                hour=hour,
                arrivals=format_value(one.arrivals[index] or 0.0, "count", lang=lang),
                attainment=format_value(one.attainment[index], "share", lang=lang),
            )
            for one in series
        ]
        tooltips.append("\n".join(lines))
    return tooltips


def _broken_rows(
    tables: dict[str, list[dict[str, Any]]],
    broken: dict[str, set[float]],
    *,
    sides: Sequence[str],
    zone: tzinfo,
    lang: Language,
) -> list[dict[str, Any]]:
    """A row per hour that any side breaks: per side its tickets, attainment and first wait."""
    by_hour = {side: {float(r["hour_start_s"]): r for r in tables[side]} for side in sides}
    rows = []
    for start in sorted(set().union(*broken.values())):
        cells = []
        for side in sides:
            row = by_hour[side].get(start, {})
            share = finite(row.get("first_response_within_target"))
            cells += [
                (format_value(finite(row.get("arrivals")), "count", lang=lang), ""),
                (format_value(share, "share", lang=lang), "miss" if start in broken[side] else ""),
                (format_value(finite(row.get("asa_s")), "duration", lang=lang), ""),
            ]
        rows.append(
            {
                "start": start,
                "label": hour_label(start, zone=zone, lang=lang),
                "sides": " ".join(side for side in sides if start in broken[side]),
                "cells": cells,
            }
        )
    return rows


def _staffing_rows(
    rows: Sequence[dict[str, Any]], *, zone: tzinfo, lang: Language
) -> list[dict[str, Any]]:
    """The optional staffing rows: agents scheduled and needed per hour, short hours marked."""
    table = []
    for row in rows:
        scheduled, needed = finite(row.get("agents_scheduled")), finite(row.get("agents_needed"))
        table.append(
            {
                "start": float(row["hour_start_s"]),
                "short": scheduled is not None and needed is not None and needed > scheduled,
                "cells": [
                    hour_label(float(row["hour_start_s"]), zone=zone, lang=lang),
                    format_value(finite(row.get("arrivals")), "count", lang=lang),
                    _agents_text(scheduled),
                    _agents_text(needed),
                    format_value(finite(row.get("service_level")), "share", lang=lang),
                ],
            }
        )
    return table


def _agents_text(agents: float | None) -> str:
    # Whole agents as whole numbers; a plan may also hold fractional full-time equivalents.
    if agents is None:
        return "–"
    return f"{agents:,.0f}" if agents == round(agents) else f"{agents:,.1f}"


def _footer(doc: dict[str, Any], *, lang: Language) -> list[str]:
    lines = [lang.say("sim_footer_runs", replications=doc["replications"], seed=doc["seed"])]
    performance = doc.get("performance") or {}
    if performance:
        rate = finite(performance.get("events_per_s"))
        lines.append(
            lang.say(
                "sim_footer_performance",
                runs=lang.numbers.count(finite(performance.get("runs")) or 0),
                events=lang.numbers.count(finite(performance.get("events")) or 0),
                seconds=lang.numbers.duration(finite(performance.get("compute_seconds"))),
                rate="–" if rate is None else lang.numbers.count(rate),
            )
        )
    return lines


_LEVEL_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_ASA_TARGET = re.compile(r"^\s*asa\s*:\s*(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


def staffing_target(text: str) -> tuple[float | None, float | None, float | None]:
    """``(share, within_s, max_asa_s)`` of a ``staff --target`` text (``80/20``, ``asa:30``);
    all ``None`` for a text of another form, which is then shown as it is."""
    if level := _LEVEL_TARGET.match(text):
        return float(level.group(1)) / 100, float(level.group(2)), None
    if asa := _ASA_TARGET.match(text):
        return None, None, float(asa.group(1))
    return None, None, None


def render_staffing(doc: dict[str, Any], *, lang: str = "en") -> str:
    """The HTML page of a ``supportflow staff --json`` document in language ``lang``: the
    plan's assumptions, a chart of arrivals, agents, service level and occupancy per interval,
    and the table of every interval.

    Raises:
        ValueError: ``lang`` is not ``en`` or ``zh``.
        KeyError: the document lacks a key its contract guarantees.
    """
    words = sim_language(lang)
    intervals: list[dict[str, Any]] = doc["intervals"]
    share, within_s, max_asa_s = staffing_target(str(doc["target"]))
    model = (
        words.say(f"staff_model_{doc['model']}")
        if doc["model"] in ("erlang_c", "erlang_a")
        else str(doc["model"])
    )
    with_abandon = any(row.get("abandon_share") is not None for row in intervals)
    rows = [_plan_row(row, with_abandon=with_abandon, lang=words) for row in intervals]
    context = {
        "page": "staffing",
        "generator": doc["generator"],
        "schema_version": doc["schema_version"],
        "subtitle": words.say(
            "staff_subtitle", model=model, target=str(doc["target"]), peak=str(doc["peak_agents"])
        ),
        "facts": _plan_facts(doc, model=model, target=(share, within_s, max_asa_s), lang=words),
        "chart": _plan_chart(intervals, rows, target_share=share, lang=words),
        "has_target_rule": share is not None,
        "with_abandon": with_abandon,
        "rows": rows,
    }
    return _render(context, words=words)


def _plan_chart(
    intervals: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    *,
    target_share: float | None,
    lang: Language,
) -> StackedChart | None:
    if not intervals:
        return None
    plan = PlanSeries(
        labels=[str(row["interval"]) for row in intervals],
        arrivals=[finite(row.get("arrivals")) for row in intervals],
        agents=[finite(row.get("agents")) for row in intervals],
        on_queue=[finite(row.get("agents_on_queue")) for row in intervals],
        service_level=[finite(row.get("service_level")) for row in intervals],
        occupancy=[finite(row.get("occupancy")) for row in intervals],
    )
    return plan_chart(
        plan,
        target_share=target_share,
        titles=(
            lang.say("staff_panel_arrivals"),
            lang.say("staff_panel_agents"),
            lang.say("staff_panel_service"),
        ),
        tooltips=[row["tooltip"] for row in rows],
        target_tooltip=lang.say("staff_legend_target"),
    )


def _plan_facts(
    doc: dict[str, Any],
    *,
    model: str,
    target: tuple[float | None, float | None, float | None],
    lang: Language,
) -> list[tuple[str, str]]:
    share, within_s, max_asa_s = target
    target_text = str(doc["target"])
    if share is not None:
        target_text += " · " + lang.say(
            "staff_target_level",
            share=lang.numbers.percent(share),
            within=lang.numbers.duration(within_s),
        )
    elif max_asa_s is not None:
        target_text += " · " + lang.say("staff_target_asa", within=lang.numbers.duration(max_asa_s))
    none = lang.say("staff_none")
    cap, patience = finite(doc.get("max_occupancy")), finite(doc.get("patience_s"))
    return [
        (lang.say("staff_fact_model"), model),
        (lang.say("staff_fact_target"), target_text),
        (lang.say("staff_fact_aht"), lang.numbers.duration(finite(doc["aht_s"]))),
        (lang.say("staff_fact_interval"), lang.numbers.duration(finite(doc["interval_s"]))),
        (
            lang.say("staff_fact_shrinkage"),
            lang.numbers.percent(float(doc.get("shrinkage") or 0.0)),
        ),
        (lang.say("staff_fact_max_occupancy"), none if cap is None else lang.numbers.percent(cap)),
        (
            lang.say("staff_fact_patience"),
            none if patience is None else lang.numbers.duration(patience),
        ),
        (lang.say("staff_fact_peak"), str(doc["peak_agents"])),
        (lang.say("staff_fact_intervals"), lang.numbers.count(len(doc["intervals"]))),
    ]


def _plan_row(row: dict[str, Any], *, with_abandon: bool, lang: Language) -> dict[str, Any]:
    def share(key: str) -> str:
        return format_value(finite(row.get(key)), "share", lang=lang)

    arrivals = finite(row.get("arrivals"))
    arrivals_text = "–" if arrivals is None else f"{arrivals:,.2f}".rstrip("0").rstrip(".")
    cells = [
        arrivals_text,
        str(row.get("agents", "–")),
        str(row.get("agents_on_queue", "–")),
        share("service_level"),
        share("wait_probability"),
        format_value(finite(row.get("asa_s")), "duration", lang=lang),
        share("occupancy"),
        *([share("abandon_share")] if with_abandon else []),
    ]
    tooltip = lang.say(
        "staff_tip",
        interval=str(row["interval"]),
        arrivals=arrivals_text,
        agents=cells[1],
        on_queue=cells[2],
        service_level=cells[3],
        occupancy=cells[6],
    )
    return {"interval": str(row["interval"]), "cells": cells, "tooltip": tooltip}
