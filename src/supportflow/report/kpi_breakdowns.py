"""Breakdowns: each KPI per channel, team, agent, priority, hour..., with the groups that stand out.

"Which team reopens most?" The document already says which groups are outliers (a funnel test
that accounts for each group's number of tickets, ``docs/kpi.md``); this page shows every group
in the order the document gives (largest first), marks the outliers (worse in red, better in
green), and lists the flagged groups first so that nobody has to read eighteen tables to find
them. Agents who put unusually many (or few) tickets on waiting-on-customer get their own table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supportflow.report.i18n import Language
from supportflow.report.kpi_words import (
    dimension_label,
    group_label,
    kpi_label,
    kpi_label_inline,
    kpi_value,
    z_text,
)
from supportflow.report.sections import share_bar_width

MAX_BREAKDOWN_ROWS = 30
"""Groups shown per table (the largest); flagged groups further down are shown as well."""
MAX_PAUSE_ROWS = 30


@dataclass(frozen=True)
class VerdictRow:
    """A table row, the CSS class of its verdict (``worse``, ``better``, ``more``, ``less``)
    or ``None``, and the verdict in words."""

    cells: list[str]
    verdict: str | None
    verdict_text: str
    bar: float | None = None


@dataclass(frozen=True)
class Outlier:
    """One flagged group, as a sentence, and its verdict."""

    text: str
    verdict: str
    verdict_text: str


def breakdown_section(kpi: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """The flagged groups, the breakdown tables per dimension, and agents' pause usage."""
    return {
        "outliers": outlier_list(kpi["breakdowns"], lang=lang),
        "dimensions": dimension_tables(kpi["breakdowns"], lang=lang),
        "pause": pause_table(kpi["pause_usage"], lang=lang),
    }


def _verdict_text(verdict: str | None, *, lang: Language) -> str:
    return "" if verdict is None else lang.say(f"verdict_{verdict}")


def _shown_groups(groups: list[dict[str, Any]], *, limit: int, flag: str) -> list[dict[str, Any]]:
    """The first ``limit`` groups, then any later group with a verdict under ``flag``."""
    return groups[:limit] + [group for group in groups[limit:] if group[flag]]


def outlier_list(breakdowns: list[dict[str, Any]], *, lang: Language) -> list[Outlier]:
    """Every flagged group of every breakdown, the furthest from the whole (largest |z|) first."""
    flagged = [
        (breakdown, group)
        for breakdown in breakdowns
        for group in breakdown["groups"]
        if group["outlier"]
    ]
    flagged.sort(key=lambda item: -abs(item[1]["z"] or 0.0))
    outliers = []
    for breakdown, group in flagged:
        unit = breakdown["unit"]
        text = lang.say(
            "outlier_item",
            dimension=dimension_label(breakdown["dimension"], lang=lang),
            group=group_label(breakdown["dimension"], group["value"], lang=lang),
            kpi=kpi_label_inline(breakdown["kpi"], lang=lang),
            mean=kpi_value(group["mean"], unit, lang=lang),
            overall=kpi_value(breakdown["overall"], unit, lang=lang),
            n=lang.numbers.count(group["n"]),
            z=z_text(group["z"]),
        )
        outliers.append(Outlier(text, group["outlier"], _verdict_text(group["outlier"], lang=lang)))
    return outliers


def dimension_tables(breakdowns: list[dict[str, Any]], *, lang: Language) -> list[dict[str, Any]]:
    """Per dimension (in the document's order), one table per KPI."""
    dimensions: dict[str, list[dict[str, Any]]] = {}
    for breakdown in breakdowns:
        dimensions.setdefault(breakdown["dimension"], []).append(
            _breakdown_table(breakdown, lang=lang)
        )
    return [
        {"name": name, "label": dimension_label(name, lang=lang), "tables": tables}
        for name, tables in dimensions.items()
    ]


def _breakdown_table(breakdown: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    unit, dimension = breakdown["unit"], breakdown["dimension"]
    shown = _shown_groups(breakdown["groups"], limit=MAX_BREAKDOWN_ROWS, flag="outlier")
    rows = [
        VerdictRow(
            cells=[
                group_label(dimension, group["value"], lang=lang),
                lang.numbers.count(group["n"]),
                kpi_value(group["mean"], unit, lang=lang),
                kpi_value(group["median"], unit, lang=lang),
                kpi_value(group["p90"], unit, lang=lang),
                z_text(group["z"]),
            ],
            verdict=group["outlier"],
            verdict_text=_verdict_text(group["outlier"], lang=lang),
        )
        for group in shown
    ]
    total = int(breakdown["groups_total"])
    return {
        "kpi": breakdown["kpi"],
        "label": kpi_label(breakdown["kpi"], lang=lang),
        "summary": lang.say(
            "bd_overall",
            overall=kpi_value(breakdown["overall"], unit, lang=lang),
            phi=f"{breakdown['overdispersion']:.1f}",
        ),
        "rows": rows,
        "note": lang.say(
            "bd_capped", shown=lang.numbers.count(len(rows)), total=lang.numbers.count(total)
        )
        if len(rows) < total
        else None,
    }


def pause_table(usage: list[dict[str, Any]], *, lang: Language) -> dict[str, Any]:
    """Agents' pause usage (most unusual first, as the document orders it), and the overall
    share of touched tickets that were paused."""
    n = lang.numbers
    shown = _shown_groups(usage, limit=MAX_PAUSE_ROWS, flag="outlier")
    rows = [
        VerdictRow(
            cells=[
                agent["agent"],
                n.count(agent["tickets"]),
                n.count(agent["paused_tickets"]),
                n.percent(agent["pause_share"]),
                n.duration(agent["median_pause_s"]),
                z_text(agent["z"]),
            ],
            verdict=agent["outlier"],
            verdict_text=_verdict_text(agent["outlier"], lang=lang),
            bar=share_bar_width(agent["pause_share"]),
        )
        for agent in shown
    ]
    touched = sum(int(agent["tickets"]) for agent in usage)
    paused = sum(int(agent["paused_tickets"]) for agent in usage)
    return {
        "rows": rows,
        "overall": lang.say("pause_overall", share=n.percent(paused / touched))
        if touched
        else None,
        "note": lang.say("bd_capped", shown=n.count(len(rows)), total=n.count(len(usage)))
        if len(rows) < len(usage)
        else None,
    }
