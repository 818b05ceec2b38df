"""The KPI pages of the report: service KPIs, flow and backlog, and SLA attainment.

A team lead opens these pages to answer "how fast do we answer and resolve, how much is piling
up, and are we keeping our promises?". Everything shown comes from the ``kpi`` section of the
document (``supportflow kpi`` writes it alone, ``supportflow diagnose`` next to the diagnosis);
this module formats its figures for one language and computes chart geometry. Breakdowns and
pause usage are in :mod:`.kpi_breakdowns`, drift in :mod:`.kpi_drift`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from supportflow.report.charts import BarChart, bar_chart
from supportflow.report.formatting import format_timestamp
from supportflow.report.i18n import Language
from supportflow.report.kpi_breakdowns import breakdown_section
from supportflow.report.kpi_charts import ColumnChart, column_chart, flow_bucket_unit, flow_chart
from supportflow.report.kpi_drift import drift_section
from supportflow.report.kpi_words import dimension_label, kpi_label, kpi_value, state_label

MAX_UNMAPPED_SHOWN = 30
SLA_BAR_WIDTH = 120
SLA_METRICS = ("first_response", "resolution")
SLA_DIMENSIONS = (("by_priority", "priority"), ("by_team", "team"), ("by_channel", "channel"))
CARD_KPIS = ("first_response_time", "resolution_time", "first_contact_resolution", "reopen_rate")
"""KPIs shown as cards at the top of the overview, when the document has them."""


@dataclass(frozen=True)
class Card:
    """One headline figure: what it is, its value, and a line of context."""

    label: str
    value: str
    detail: str


@dataclass(frozen=True)
class SlaRow:
    """A group's attainment of one SLA clock, with the widths of its met/breached/running bar."""

    cells: list[str]
    bar: tuple[float, float, float]


def kpi_context(kpi: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """Everything the KPI pages of the template need, from the document's ``kpi`` section.

    Raises ``KeyError`` when the section lacks a key of its contract (``docs/kpi.md``).
    """
    return {
        "intro": lang.say(
            "kpi_intro",
            tickets=lang.numbers.count(kpi["tickets"]),
            clock=format_timestamp(kpi["clock"]),
            timezone=kpi["timezone"],
        ),
        "overview": kpi_overview(kpi, lang=lang),
        "sla": sla_section(kpi["sla"], lang=lang) if kpi.get("sla") else None,
        "breakdowns": breakdown_section(kpi, lang=lang),
        "drift": drift_section(kpi["drift"], lang=lang) if kpi.get("drift") else None,
    }


def kpi_overview(kpi: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """Cards, the KPI table, the status map used, and the flow and backlog charts."""
    flow = kpi["flow"]
    return {
        "cards": kpi_cards(kpi, lang=lang),
        "kpis": kpi_rows(kpi["kpis"], lang=lang),
        "status_map": status_map_facts(kpi["status_map"], lang=lang),
        "unmapped": [
            [activity, lang.numbers.count(events)]
            for activity, events in list(kpi["status_map"]["unmapped_activities"].items())[
                :MAX_UNMAPPED_SHOWN
            ]
        ],
        "unmapped_total": len(kpi["status_map"]["unmapped_activities"]),
        "flow_chart": flow_chart(
            flow["daily"],
            bucket_tooltip=lambda period, arrivals, resolutions, backlog: lang.say(
                "flow_tip",
                period=period,
                arrivals=lang.numbers.count(arrivals),
                resolutions=lang.numbers.count(resolutions),
                backlog=lang.numbers.count(backlog),
            ),
        ),
        "flow_legend": _flow_legend(flow, lang=lang),
        "by_hour": _load_chart(
            [f"{hour:02d}" for hour in range(24)],
            [lang.hour(hour) for hour in range(24)],
            (flow["arrivals_by_hour"], flow["resolutions_by_hour"]),
            lang=lang,
            every=3,
        ),
        "by_weekday": _load_chart(
            list(lang.weekdays),
            list(lang.weekdays),
            (flow["arrivals_by_weekday"], flow["resolutions_by_weekday"]),
            lang=lang,
            every=1,
            slot_width=52,
        ),
        "age": backlog_age(flow["backlog_age"], lang=lang),
    }


def kpi_cards(kpi: dict[str, Any], *, lang: Language) -> list[Card]:
    """Tickets and backlog, then the headline KPIs the document has."""
    n = lang.numbers
    flow = kpi["flow"]
    cards = [
        Card(
            lang.say("card_tickets"),
            n.count(kpi["tickets"]),
            lang.say("card_open", open=n.count(flow["backlog_age"]["open_tickets"])),
        )
    ]
    summaries = {summary["name"]: summary for summary in kpi["kpis"]}
    for name in CARD_KPIS:
        summary = summaries.get(name)
        if summary is None:
            continue
        if summary["unit"] == "duration":
            value = lang.say("card_median", median=n.duration(summary["median"]))
            detail = lang.say("card_p90", p90=n.duration(summary["p90"]))
        else:
            value = kpi_value(summary["mean"], summary["unit"], lang=lang)
            detail = lang.say("card_of_tickets", count=n.count(summary["count"]))
        cards.append(Card(kpi_label(name, lang=lang), value, detail))
    if flow["peak_backlog_date"] is not None:
        cards.append(
            Card(
                lang.say("card_peak_backlog"),
                n.count(flow["peak_backlog"]),
                lang.say("card_on_date", date=flow["peak_backlog_date"]),
            )
        )
    return cards


def kpi_rows(summaries: list[dict[str, Any]], *, lang: Language) -> list[dict[str, Any]]:
    """One row per KPI: its name, definition, and count, mean, median, p90 and target share."""
    n = lang.numbers
    rows = []
    for summary in summaries:
        unit = summary["unit"]
        target = summary["target"]
        rows.append(
            {
                "name": summary["name"],
                "label": kpi_label(summary["name"], lang=lang),
                "formula": summary["formula"],
                "cells": [
                    n.count(summary["count"]),
                    kpi_value(summary["mean"], unit, lang=lang),
                    kpi_value(summary["median"], unit, lang=lang),
                    kpi_value(summary["p90"], unit, lang=lang),
                    "–" if target is None else kpi_value(target, unit, lang=lang),
                    "–"
                    if summary["share_within_target"] is None
                    else n.percent(summary["share_within_target"]),
                ],
            }
        )
    return rows


def status_map_facts(status_map: dict[str, Any], *, lang: Language) -> list[tuple[str, str]]:
    """Which status map read the log, how it was chosen, and how much of the log it names."""
    chosen_by = status_map["chosen_by"]
    facts = [
        (lang.say("sm_name"), status_map["name"]),
        (lang.say("sm_chosen_by"), lang.text.get(f"sm_chosen_{chosen_by}", chosen_by)),
        (lang.say("sm_coverage"), lang.numbers.percent(status_map["coverage"])),
        (
            lang.say("sm_assignment"),
            lang.text.get(
                "sm_assignment_" + status_map["assignment_source"].replace(" ", "_"),
                status_map["assignment_source"],
            ),
        ),
    ]
    if status_map["attributes"]:
        columns = "; ".join(
            f"{role}: {column}" for role, column in status_map["attributes"].items()
        )
        facts.append((lang.say("sm_attributes"), columns))
    return facts


def _flow_legend(flow: dict[str, Any], *, lang: Language) -> str:
    daily = flow["daily"]
    if not daily:
        return lang.say("no_data")
    unit = flow_bucket_unit(
        date.fromisoformat(daily[0]["date"]), date.fromisoformat(daily[-1]["date"])
    )
    text = lang.say("flow_legend", per=lang.say(f"flow_per_{unit}"))
    if flow["peak_backlog_date"] is not None:
        text += lang.say("sentence_space") + lang.say(
            "flow_peak",
            backlog=lang.numbers.count(flow["peak_backlog"]),
            date=flow["peak_backlog_date"],
        )
    return text


def _load_chart(
    labels: list[str],
    names: list[str],
    counts: tuple[list[int], list[int]],
    *,
    lang: Language,
    every: int,
    slot_width: int = 26,
) -> ColumnChart:
    """Arrivals and resolutions per slot; ``labels`` go under the axis, ``names`` in tooltips."""

    def tip(key: str) -> Callable[[int, int], str]:
        return lambda slot, count: lang.say(key, slot=names[slot], count=lang.numbers.count(count))

    arrivals, resolutions = counts
    return column_chart(
        labels,
        [
            ("arrivals", arrivals, tip("load_tip_arrivals")),
            ("resolutions", resolutions, tip("load_tip_resolutions")),
        ],
        label_every=every,
        slot_width=slot_width,
    )


def backlog_age(age: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """The open tickets' ages as facts and as a bar chart of age buckets."""
    n = lang.numbers
    buckets = age["buckets"]
    total = sum(buckets)
    names = [lang.say(f"age_bucket_{index}") for index in range(len(buckets))]
    chart: BarChart = bar_chart(
        [
            (name, float(count), f"{n.count(count)} ({n.percent(count / total if total else 0.0)})")
            for name, count in zip(names, buckets, strict=True)
        ]
    )
    return {
        "facts": [
            (lang.say("age_open"), n.count(age["open_tickets"])),
            (lang.say("age_median"), n.duration(age["median_age_s"])),
            (lang.say("age_p90"), n.duration(age["p90_age_s"])),
            (lang.say("age_oldest"), n.duration(age["oldest_age_s"])),
        ],
        "chart": chart,
        "open": int(age["open_tickets"]),
    }


def sla_section(sla: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """Attainment of each SLA clock overall and per priority, team and channel."""
    metrics = []
    for metric in SLA_METRICS:
        attainment = sla[metric]
        groups = [
            (
                dimension_label(dimension, lang=lang),
                [_sla_row(value, counts, lang=lang) for value, counts in attainment[key].items()],
            )
            for key, dimension in SLA_DIMENSIONS
            if attainment[key]
        ]
        metrics.append(
            {
                "metric": metric,
                "title": lang.say(f"sla_{metric}"),
                "overall": _sla_row(lang.say("sla_all_tickets"), attainment["overall"], lang=lang),
                "groups": groups,
                "no_target": lang.say(
                    "sla_no_target", count=lang.numbers.count(attainment["no_target"])
                )
                if attainment["no_target"]
                else None,
            }
        )
    return {
        "facts": [
            (lang.say("sla_clock"), format_timestamp(sla["clock"])),
            (
                lang.say("sla_pause_states"),
                ", ".join(state_label(state, lang=lang) for state in sla["pause_states"])
                or lang.say("sla_no_pause"),
            ),
        ],
        "metrics": metrics,
    }


def _sla_row(label: str, counts: dict[str, Any], *, lang: Language) -> SlaRow:
    n = lang.numbers
    tickets = int(counts["tickets"])

    def width(part: int) -> float:
        return round(SLA_BAR_WIDTH * part / tickets, 1) if tickets else 0.0

    share = counts["share_met"]
    return SlaRow(
        cells=[
            label,
            n.count(tickets),
            n.count(counts["met"]),
            n.count(counts["breached"]),
            n.count(counts["running"]),
            "–" if share is None else n.percent(share),
        ],
        bar=(width(counts["met"]), width(counts["breached"]), width(counts["running"])),
    )
