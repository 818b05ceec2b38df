"""The KPI findings in words: a headline and one or two sentences each, in the report's language.

:mod:`supportflow.report.kpi_findings` chooses the figures; this module formats them and fills
the sentences of :mod:`supportflow.report.i18n_kpi`. :mod:`supportflow.report.narrative`
dispatches to these functions through :data:`KPI_DESCRIBERS`, and each finding links to the
KPI page that shows its details.
"""

from __future__ import annotations

from collections.abc import Callable
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

Sentences = tuple[str, list[str]]


def _unmapped(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        "f_unmapped_activities_head",
        activities=n.count(values["activities"]),
        status_map=values["status_map"],
    )
    details = [
        lang.say(
            "f_unmapped_activities_body",
            events=n.count(values["events"]),
            share=n.percent(values["share_of_events"]),
            activity=values["top_activity"],
            activity_events=n.count(values["top_activity_events"]),
        )
    ]
    return headline, details


def _sla(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        f"f_sla_attainment_{values['metric']}_head", share=n.percent(values["share_met"])
    )
    details = [
        lang.say(
            "f_sla_attainment_body",
            met=n.count(values["met"]),
            decided=n.count(values["with_outcome"]),
            breached=n.count(values["breached"]),
        )
    ]
    if values["running"]:
        details.append(lang.say("f_sla_attainment_running", running=n.count(values["running"])))
    if "worst_group" in values:
        details.append(
            lang.say(
                "f_sla_attainment_worst",
                dimension=dimension_label(values["worst_dimension"], lang=lang),
                group=values["worst_group"],
                share=n.percent(values["worst_share_met"]),
                decided=n.count(values["worst_with_outcome"]),
            )
        )
    return headline, details


def _drift(values: dict[str, Any], lang: Language) -> Sentences:
    duration = lang.numbers.duration
    name = values["series"]
    series = kpi_label(name, lang=lang) if values["kind"] == "kpi" else name
    key = "longer" if values["after_median"] > values["before_median"] else "shorter"
    headline = lang.say(
        f"f_kpi_drift_{key}_head",
        series=series,
        at=values["at"],
        before=duration(values["before_median"]),
        after=duration(values["after_median"]),
    )
    body = lang.say(
        "f_kpi_drift_body",
        before_p10=duration(values["before_p10"]),
        before_p90=duration(values["before_p90"]),
        before_n=lang.numbers.count(values["before_n"]),
        after_p10=duration(values["after_p10"]),
        after_p90=duration(values["after_p90"]),
        after_n=lang.numbers.count(values["after_n"]),
    )
    return headline, [body]


def _outlier(values: dict[str, Any], lang: Language) -> Sentences:
    unit = values["unit"]
    headline = lang.say(
        "f_kpi_outlier_head",
        dimension=dimension_label(values["dimension"], lang=lang),
        group=group_label(values["dimension"], values["group"], lang=lang),
        kpi=kpi_label_inline(values["kpi"], lang=lang),
    )
    body = lang.say(
        "f_kpi_outlier_body",
        mean=kpi_value(values["mean"], unit, lang=lang),
        overall=kpi_value(values["overall"], unit, lang=lang),
        n=lang.numbers.count(values["n"]),
        z=z_text(values["z"]),
    )
    return headline, [body]


def _pause(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        "f_pause_outlier_head",
        agent=values["agent"],
        share=n.percent(values["pause_share"]),
        overall=n.percent(values["overall_share"]),
    )
    details = [
        lang.say(
            "f_pause_outlier_body",
            paused=n.count(values["paused_tickets"]),
            tickets=n.count(values["tickets"]),
            median=n.duration(values["median_pause_s"]),
            z=z_text(values["z"]),
        )
    ]
    if values["others"]:
        details.append(lang.say("f_pause_outlier_others", count=n.count(values["others"])))
    return headline, details


KPI_DESCRIBERS: dict[str, tuple[Callable[[dict[str, Any], Language], Sentences], str]] = {
    "unmapped_activities": (_unmapped, "kpi-overview"),
    "sla_attainment": (_sla, "kpi-sla"),
    "kpi_drift": (_drift, "kpi-drift"),
    "kpi_outlier": (_outlier, "kpi-breakdowns"),
    "pause_outlier": (_pause, "kpi-breakdowns"),
}
"""Per KPI finding kind: the function that words it, and the anchor of its page."""
