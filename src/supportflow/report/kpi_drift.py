"""The drift page: when a waiting time or a KPI changed, and from what to what.

A help desk changes without writing it down: an auto-close rule, a new triage step, a team that
shrank. The document's ``drift`` section profiles each series (the waits of the costliest
transitions, and ticket KPIs) per week or month and lists the dates where its distribution
changed, with exact statistics of the stretches before and after. This page draws each series
that changed (its median per period, the 10th–90th percentile band, a mark at each change and
the median of each stretch) and says each change in a sentence; series that did not change are
listed in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supportflow.report.i18n import Language
from supportflow.report.kpi_charts import DriftChart, drift_chart
from supportflow.report.kpi_words import kpi_label


@dataclass(frozen=True)
class ChangeText:
    """One change point in words, and whether the median got longer (``worse``) or shorter
    (``better``); every drift series is a duration, so longer is worse."""

    text: str
    direction: str | None
    direction_text: str


@dataclass(frozen=True)
class DriftFigure:
    """One series that changed: its name, chart and sentences."""

    series: str
    chart: DriftChart
    changes: list[ChangeText]


def series_label(series: dict[str, Any], *, lang: Language) -> str:
    """A series' name for the reader: a KPI in words, a transition as the log names it."""
    name = str(series["series"])
    return kpi_label(name, lang=lang) if series["kind"] == "kpi" else name


def drift_section(drift: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """Charts and sentences for the series with change points, and the list of the others.

    Raises ``KeyError`` when the section lacks a key of its contract (``docs/drift.md``).
    """
    period = drift["period"]
    figures = [
        DriftFigure(
            series=series_label(series, lang=lang),
            chart=drift_chart(series, period=period, duration=lang.numbers.duration),
            changes=[change_text(change, lang=lang) for change in series["change_points"]],
        )
        for series in drift["series"]
        if series["change_points"]
    ]
    quiet = [
        lang.say(
            "drift_quiet_item",
            series=series_label(series, lang=lang),
            periods=lang.numbers.count(len(series["periods"])),
        )
        for series in drift["series"]
        if not series["change_points"]
    ]
    return {
        "legend": lang.say(
            "drift_legend",
            period=lang.text.get(f"drift_period_{period}", period),
            timezone=drift["timezone"],
        ),
        "figures": figures,
        "quiet": quiet,
        "series": len(drift["series"]),
    }


def change_text(change: dict[str, Any], *, lang: Language) -> ChangeText:
    """A change point as a sentence with the median, p10–p90 and size of both stretches."""
    duration = lang.numbers.duration
    before, after = change["before"], change["after"]
    text = lang.say(
        "drift_change",
        at=change["at"],
        after_median=duration(after["median_s"]),
        after_p10=duration(after["p10_s"]),
        after_p90=duration(after["p90_s"]),
        after_n=lang.numbers.count(after["n"]),
        before_median=duration(before["median_s"]),
        before_p10=duration(before["p10_s"]),
        before_p90=duration(before["p90_s"]),
        before_n=lang.numbers.count(before["n"]),
    )
    if after["median_s"] > before["median_s"]:
        return ChangeText(text, "worse", lang.say("drift_longer"))
    if after["median_s"] < before["median_s"]:
        return ChangeText(text, "better", lang.say("drift_shorter"))
    return ChangeText(text, None, "")
