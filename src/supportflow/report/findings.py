"""Findings: what a team lead should read first, each backed by figures from the document.

A report has many tables; a finding picks the one number in a table that calls for action and
says it plainly: "Resolve ticket → Closed holds 59% of all case time", "4 tickets repeat an
activity and take 8.1 d longer". This module only *selects* figures. It writes no sentences:
each finding is a language-neutral record, ``{"kind": ..., "impact_s": ..., "values": {...}}``,
and :mod:`supportflow.report.narrative` turns ``kind`` and ``values`` into English or Chinese.
Every value is copied or computed from the diagnosis document; when the document does not
carry a figure (a median that is ``null``, a column that was not mapped), the finding leaves
it out rather than estimating it.

Ranking rule. ``impact_s`` is the case time, in seconds, that the finding can be held
responsible for:

- ``bottleneck_transition``: the transition's total waiting (``total_s``);
- ``rework``: cases with rework × (median duration with rework − median without), an
  estimate of the case time rework adds, when both medians are in the document and the
  difference is positive; otherwise 0;
- every other kind: 0, because the document carries no duration attributable to it.

Findings are sorted by ``impact_s``, largest first. Ties (in practice, the findings with no
attributable time) keep the fixed order of :data:`KIND_ORDER`: data quality first, then the
kinds that point at a fixable handling problem, then the descriptive ones.

A document with a ``kpi`` section (``supportflow kpi``, or ``diagnose`` with KPIs) also gets the
findings of :mod:`supportflow.report.kpi_findings`; a document with only that section gets only
those.
"""

from __future__ import annotations

import math
from typing import Any

from supportflow.report.kpi_findings import KPI_KINDS, derive_kpi_findings

Finding = dict[str, Any]

KIND_ORDER: tuple[str, ...] = (
    "bottleneck_transition",
    "rework",
    "rejected_rows",
    "unmapped_activities",
    "sla_attainment",
    "kpi_drift",
    "kpi_outlier",
    "pause_outlier",
    "pingpong",
    "handover_hotspot",
    "case_duration_spread",
    "variant_coverage",
    "wait_hour_peak",
    "arrival_peak",
)
"""Order of findings whose ``impact_s`` is equal (see the module docstring)."""

TOP_VARIANTS_FOR_COVERAGE = 10
"""How many of the most frequent variants count as "the usual paths" in ``variant_coverage``."""

MIN_WAITS_PER_CELL = 5
"""A weekday×hour cell needs at least this many waits (and 1% of all waits) before its median
can be called the longest: a median of two waits is an anecdote, not a pattern."""


MIN_HANDOVER_SHARE_OF_CASES = 0.01
"""The most frequent handover is a finding only when it touches at least 1% of cases; below
that it is a row in the handover table, not something to act on first."""


def derive_findings(doc: dict[str, Any]) -> list[Finding]:
    """Plain-language findings for the document ``doc``, highest impact first.

    ``doc`` follows the JSON contract of ``supportflow diagnose`` (schema 1.0), with or
    without its ``kpi`` section, or is the document of ``supportflow kpi`` (``generator`` and
    ``kpi`` only). A finding is only emitted when its figures are present and non-zero. Raises
    ``KeyError`` if a key the contract guarantees is missing.
    """
    findings = _diagnosis_findings(doc) if "log" in doc else []
    if doc.get("kpi"):
        findings += derive_kpi_findings(doc["kpi"])
    return rank_findings(findings)


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """``findings`` by ``impact_s`` (largest first), then by :data:`KIND_ORDER`."""
    # sorted() is stable: findings of one kind keep their order (handover teams, then agents).
    return sorted(
        findings,
        key=lambda finding: (-float(finding["impact_s"]), KIND_ORDER.index(finding["kind"])),
    )


def report_findings(doc: dict[str, Any]) -> list[Finding]:
    """The findings a report shows: the document's own, else derived here.

    A diagnosis document written before its ``kpi`` section was added (its ``findings`` hold
    no KPI kind) gets the KPI findings added and ranked with the others.
    """
    if "findings" not in doc:
        return derive_findings(doc)
    findings: list[Finding] = list(doc["findings"])
    if doc.get("kpi") and not any(finding["kind"] in KPI_KINDS for finding in findings):
        findings = rank_findings(findings + derive_kpi_findings(doc["kpi"]))
    return findings


def _diagnosis_findings(doc: dict[str, Any]) -> list[Finding]:
    cases = int(doc["log"]["cases"])
    candidates = [
        _bottleneck(doc),
        _rework(doc, cases=cases),
        _rejected_rows(doc),
        _pingpong(doc, cases=cases),
        *_handover_hotspots(doc, cases=cases),
        _case_duration_spread(doc),
        _variant_coverage(doc),
        _wait_hour_peak(doc),
        _arrival_peak(doc),
    ]
    return [finding for finding in candidates if finding is not None]


def _finding(kind: str, impact_s: float, values: dict[str, Any]) -> Finding:
    return {"kind": kind, "impact_s": float(impact_s), "values": values}


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _bottleneck(doc: dict[str, Any]) -> Finding | None:
    """The transition that holds the most waiting, as the mining core ranked it."""
    bottlenecks: list[dict[str, Any]] = doc["bottlenecks"]
    if not bottlenecks or bottlenecks[0]["total_s"] <= 0:
        return None
    top = bottlenecks[0]
    return _finding(
        "bottleneck_transition",
        top["total_s"],
        {
            "source": top["source"],
            "target": top["target"],
            "count": top["count"],
            "total_s": top["total_s"],
            "share_of_case_time": top["share_of_case_time"],
            "median_s": top["median_s"],
            "p90_s": top["p90_s"],
        },
    )


def _rework(doc: dict[str, Any], *, cases: int) -> Finding | None:
    """Cases that repeat an activity, the activity repeated most, and what rework costs."""
    rework: dict[str, Any] = doc["rework"]
    affected = int(rework["cases_with_rework"])
    if affected == 0:
        return None
    values: dict[str, Any] = {"cases": affected, "share_of_cases": _share(affected, cases)}
    per_activity: dict[str, int] = rework["per_activity"]
    if per_activity:
        # Ties go to the name that sorts first, so the finding does not depend on dict order.
        activity, activity_cases = min(per_activity.items(), key=lambda item: (-item[1], item[0]))
        values["top_activity"] = activity
        values["top_activity_cases"] = activity_cases
    impact_s = 0.0
    with_s = rework["median_duration_with_rework_s"]
    without_s = rework["median_duration_without_rework_s"]
    if with_s is not None and without_s is not None:
        values["median_with_s"] = with_s
        values["median_without_s"] = without_s
        if with_s > without_s:
            values["extra_s"] = with_s - without_s
            impact_s = affected * (with_s - without_s)
    self_loops: dict[str, int] | None = rework["self_loops"]
    if self_loops is not None and (self_loops["repeat"] or self_loops["redo"]):
        values["repeat"] = self_loops["repeat"]
        values["redo"] = self_loops["redo"]
    return _finding("rework", impact_s, values)


def _rejected_rows(doc: dict[str, Any]) -> Finding | None:
    """Rows of the source left out of every figure, and the most common reason."""
    rows = int(doc["log"]["rejected_rows"])
    if rows == 0:
        return None
    values: dict[str, Any] = {
        "rows": rows,
        "share_of_rows": _share(rows, rows + int(doc["log"]["events"])),
    }
    reasons: dict[str, int] = doc["source"]["reject_reasons"]
    if reasons:
        reason, reason_rows = min(reasons.items(), key=lambda item: (-item[1], item[0]))
        values["top_reason"] = reason
        values["top_reason_rows"] = reason_rows
    return _finding("rejected_rows", 0.0, values)


def _pingpong(doc: dict[str, Any], *, cases: int) -> Finding | None:
    """Tickets bounced back to a team, an agent or an activity they had left (A → B → A).

    ``values["levels"]`` lists the levels with ping-pong, most cases first (ties: teams, then
    agents, then activities); the first one makes the headline.
    """
    pingpong: dict[str, int | None] = doc["pingpong"]
    counts = {level: pingpong[f"{level}_cases"] for level in ("team", "resource", "activity")}
    levels = sorted(
        (level for level, count in counts.items() if count), key=lambda level: -(counts[level] or 0)
    )
    if not levels:
        return None
    values: dict[str, Any] = {"levels": levels}
    for level in levels:
        affected = counts[level] or 0
        values[f"{level}_cases"] = affected
        values[f"{level}_share_of_cases"] = _share(affected, cases)
    return _finding("pingpong", 0.0, values)


def _handover_hotspots(doc: dict[str, Any], *, cases: int) -> list[Finding]:
    """The most frequent handover of work between teams, and between agents."""
    findings = []
    for level, key in (("team", "teams"), ("resource", "resources")):
        arcs: list[dict[str, Any]] = doc["handover"][key]
        if arcs and _share(arcs[0]["cases"], cases) >= MIN_HANDOVER_SHARE_OF_CASES:
            top = arcs[0]
            values = {
                "level": level,
                "source": top["source"],
                "target": top["target"],
                "count": top["count"],
                "cases": top["cases"],
                "share_of_cases": _share(top["cases"], cases),
            }
            findings.append(_finding("handover_hotspot", 0.0, values))
    return findings


def _case_duration_spread(doc: dict[str, Any]) -> Finding | None:
    """How long a typical ticket takes, and how long the slowest tenth takes."""
    durations: dict[str, float] = doc["case_duration_s"]
    if durations["max"] <= 0:
        return None
    values = {"median_s": durations["median"], "p90_s": durations["p90"], "max_s": durations["max"]}
    return _finding("case_duration_spread", 0.0, values)


def _variant_coverage(doc: dict[str, Any]) -> Finding | None:
    """How much of the work follows the usual paths, and how long the tail of variants is."""
    variants: list[dict[str, Any]] = doc["variants"]
    if not variants:
        return None
    top = variants[0]
    top_n = min(TOP_VARIANTS_FOR_COVERAGE, len(variants))
    top_n_share = math.fsum(variant["share"] for variant in variants[:top_n])
    total_variants = int(doc["log"]["variants"])
    return _finding(
        "variant_coverage",
        0.0,
        {
            "top_activities": list(top["activities"]),
            "top_cases": top["cases"],
            "top_share": top["share"],
            "top_n": top_n,
            "top_n_share": top_n_share,
            "tail_variants": max(total_variants - top_n, 0),
            "tail_share": max(1.0 - top_n_share, 0.0),
            "variants": total_variants,
        },
    )


def _argmax_cell(grid: list[list[Any]], *, eligible: list[list[bool]]) -> tuple[int, int] | None:
    """(weekday, hour) of the largest eligible cell; ties go to the earliest in the week."""
    best: tuple[int, int] | None = None
    for weekday, row in enumerate(grid):
        for hour, value in enumerate(row):
            if not eligible[weekday][hour]:
                continue
            if best is None or value > grid[best[0]][best[1]]:
                best = (weekday, hour)
    return best


def _arrival_peak(doc: dict[str, Any]) -> Finding | None:
    """The hour of the week, the weekday and the hour of the day when most tickets arrive."""
    arrivals: list[list[int]] = doc["heatmaps"]["arrivals"]
    total = sum(sum(row) for row in arrivals)
    if total == 0:
        return None
    everywhere = [[True] * len(row) for row in arrivals]
    peak = _argmax_cell(arrivals, eligible=everywhere)
    assert peak is not None  # total > 0, so some cell is positive
    by_weekday = [sum(row) for row in arrivals]
    by_hour = [sum(column) for column in zip(*arrivals, strict=True)]
    busiest_weekday = by_weekday.index(max(by_weekday))
    busiest_hour = by_hour.index(max(by_hour))
    return _finding(
        "arrival_peak",
        0.0,
        {
            "weekday": peak[0],
            "hour": peak[1],
            "arrivals": arrivals[peak[0]][peak[1]],
            "share_of_arrivals": _share(arrivals[peak[0]][peak[1]], total),
            "busiest_weekday": busiest_weekday,
            "busiest_weekday_share": _share(by_weekday[busiest_weekday], total),
            "busiest_hour": busiest_hour,
            "busiest_hour_share": _share(by_hour[busiest_hour], total),
        },
    )


def _wait_hour_peak(doc: dict[str, Any]) -> Finding | None:
    """The hour of the week whose waits last longest, among hours with enough waits to tell."""
    heatmaps: dict[str, Any] = doc["heatmaps"]
    medians: list[list[float | None]] = heatmaps["median_wait_s"]
    counts: list[list[int]] = heatmaps["wait_counts"]
    total = sum(sum(row) for row in counts)
    floor = max(MIN_WAITS_PER_CELL, 0.01 * total)
    eligible = [
        [median is not None and count >= floor for median, count in zip(m_row, c_row, strict=True)]
        for m_row, c_row in zip(medians, counts, strict=True)
    ]
    peak = _argmax_cell(medians, eligible=eligible)
    if peak is None:
        return None
    weekday, hour = peak
    return _finding(
        "wait_hour_peak",
        0.0,
        {
            "weekday": weekday,
            "hour": hour,
            "median_s": medians[weekday][hour],
            "count": counts[weekday][hour],
        },
    )
