"""Findings in words: a headline and one or two sentences per finding, in the report's language.

:mod:`supportflow.report.findings` chooses the figures; this module only formats them
("2.3 d", "59.1%", "周一") and fills the sentences of :mod:`supportflow.report.i18n`. The
result is plain text: the template escapes it, so an activity named ``<script>`` is shown,
never run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supportflow.report.i18n import Language
from supportflow.report.kpi_narrative import KPI_DESCRIBERS

MAX_PATH_STEPS_IN_SENTENCE = 8
"""A variant longer than this is shortened in a sentence (the variants table shows it all)."""


@dataclass(frozen=True)
class FindingText:
    """One finding as the reader sees it, and the report section that holds its details."""

    kind: str
    headline: str
    details: list[str]
    impact: str | None
    section: str


def describe_findings(findings: list[dict[str, Any]], *, lang: Language) -> list[FindingText]:
    """The sentences for ``findings`` (as :func:`derive_findings` returns them), in order.

    Raises ``KeyError`` for a finding kind this module does not know.
    """
    texts = []
    for finding in findings:
        kind = finding["kind"]
        describe, section = _DESCRIBERS[kind]
        headline, details = describe(finding["values"], lang)
        impact_s = float(finding["impact_s"])
        impact = lang.say("impact", impact=lang.numbers.duration(impact_s)) if impact_s else None
        texts.append(FindingText(kind, headline, details, impact, section))
    return texts


Sentences = tuple[str, list[str]]


def _bottleneck(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        "f_bottleneck_transition_head",
        source=values["source"],
        target=values["target"],
        share=n.percent(values["share_of_case_time"]),
    )
    body = lang.say(
        "f_bottleneck_transition_body",
        median=n.duration(values["median_s"]),
        p90=n.duration(values["p90_s"]),
        count=n.count(values["count"]),
        total=n.duration(values["total_s"]),
    )
    return headline, [body]


def _rework(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        "f_rework_head", cases=n.count(values["cases"]), share=n.percent(values["share_of_cases"])
    )
    details = []
    if "extra_s" in values:
        details.append(
            lang.say(
                "f_rework_longer",
                extra=n.duration(values["extra_s"]),
                with_rework=n.duration(values["median_with_s"]),
                without_rework=n.duration(values["median_without_s"]),
            )
        )
    if "top_activity" in values:
        details.append(
            lang.say(
                "f_rework_top",
                activity=values["top_activity"],
                activity_cases=n.count(values["top_activity_cases"]),
            )
        )
    if "repeat" in values:
        details.append(
            lang.say(
                "f_rework_loops", repeat=n.count(values["repeat"]), redo=n.count(values["redo"])
            )
        )
    return headline, details


def _rejected_rows(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        "f_rejected_rows_head",
        rows=n.count(values["rows"]),
        share=n.percent(values["share_of_rows"]),
    )
    details = [lang.say("f_rejected_rows_body")]
    if "top_reason" in values:
        details.append(
            lang.say(
                "f_rejected_rows_reason",
                reason=values["top_reason"],
                reason_rows=n.count(values["top_reason_rows"]),
            )
        )
    return headline, details


def _pingpong(values: dict[str, Any], lang: Language) -> Sentences:
    def head(level: str) -> str:
        return lang.say(
            f"f_pingpong_{level}_head",
            cases=lang.numbers.count(values[f"{level}_cases"]),
            share=lang.numbers.percent(values[f"{level}_share_of_cases"]),
        )

    first, *others = values["levels"]
    details = [lang.say(f"f_pingpong_{first}_body")]
    details += [lang.say("sentence", text=head(level)) for level in others]
    return head(first), details


def _handover_hotspot(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        f"f_handover_hotspot_{values['level']}_head",
        source=values["source"],
        target=values["target"],
    )
    body = lang.say(
        "f_handover_hotspot_body",
        count=n.count(values["count"]),
        cases=n.count(values["cases"]),
        share=n.percent(values["share_of_cases"]),
    )
    return headline, [body]


def _case_duration_spread(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say("f_case_duration_spread_head", median=n.duration(values["median_s"]))
    body = lang.say(
        "f_case_duration_spread_body",
        p90=n.duration(values["p90_s"]),
        max=n.duration(values["max_s"]),
    )
    return headline, [body]


def path_text(activities: list[str], *, lang: Language, max_steps: int) -> str:
    """A variant as ``A → B → C``, cut after ``max_steps`` steps with a note of how many more."""
    shown = " → ".join(activities[:max_steps])
    hidden = len(activities) - max_steps
    if hidden > 0:
        return f"{shown} {lang.say('more_steps', count=hidden)}"
    return shown


def _variant_coverage(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say("f_variant_coverage_head", share=n.percent(values["top_share"]))
    details = [
        lang.say(
            "f_variant_coverage_body",
            path=path_text(
                values["top_activities"], lang=lang, max_steps=MAX_PATH_STEPS_IN_SENTENCE
            ),
            cases=n.count(values["top_cases"]),
        )
    ]
    if values["tail_variants"] > 0:
        details.append(
            lang.say(
                "f_variant_coverage_tail",
                top_n=values["top_n"],
                top_n_share=n.percent(values["top_n_share"]),
                tail=n.count(values["tail_variants"]),
                tail_share=n.percent(values["tail_share"]),
            )
        )
    return headline, details


def _wait_hour_peak(values: dict[str, Any], lang: Language) -> Sentences:
    headline = lang.say(
        "f_wait_hour_peak_head",
        weekday=lang.weekdays[values["weekday"]],
        hour=lang.hour(values["hour"]),
    )
    body = lang.say(
        "f_wait_hour_peak_body",
        median=lang.numbers.duration(values["median_s"]),
        count=lang.numbers.count(values["count"]),
    )
    return headline, [body]


def _arrival_peak(values: dict[str, Any], lang: Language) -> Sentences:
    n = lang.numbers
    headline = lang.say(
        "f_arrival_peak_head",
        weekday=lang.weekdays[values["weekday"]],
        hour=lang.hour(values["hour"]),
    )
    body = lang.say(
        "f_arrival_peak_body",
        arrivals=n.count(values["arrivals"]),
        share=n.percent(values["share_of_arrivals"]),
        busiest_weekday=lang.weekdays[values["busiest_weekday"]],
        weekday_share=n.percent(values["busiest_weekday_share"]),
        busiest_hour=lang.hour(values["busiest_hour"]),
        hour_share=n.percent(values["busiest_hour_share"]),
    )
    return headline, [body]


_DESCRIBERS: dict[str, tuple[Callable[[dict[str, Any], Language], Sentences], str]] = {
    "bottleneck_transition": (_bottleneck, "bottlenecks"),
    "rework": (_rework, "rework"),
    "rejected_rows": (_rejected_rows, "overview"),
    "pingpong": (_pingpong, "rework"),
    "handover_hotspot": (_handover_hotspot, "handovers"),
    "case_duration_spread": (_case_duration_spread, "overview"),
    "variant_coverage": (_variant_coverage, "variants"),
    "wait_hour_peak": (_wait_hour_peak, "heatmaps"),
    "arrival_peak": (_arrival_peak, "heatmaps"),
    **KPI_DESCRIBERS,
}
