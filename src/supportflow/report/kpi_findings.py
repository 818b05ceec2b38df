"""Findings from the KPI section: broken promises, changes over time and groups that stand out.

Like :mod:`supportflow.report.findings`, this module only *selects* figures of the document's
``kpi`` section into language-neutral records (``{"kind", "impact_s", "values"}``);
:mod:`supportflow.report.kpi_narrative` words them. None of them carries case time the
document can attribute to it, so their ``impact_s`` is 0 and they rank by kind (see
``KIND_ORDER`` in :mod:`supportflow.report.findings`):

- ``unmapped_activities``: the status map does not name some activities of the log (a data
  problem: every KPI that depends on them may be wrong);
- ``sla_attainment``: an SLA clock met in fewer than :data:`SLA_ATTAINMENT_GOAL` of the tickets
  whose outcome is known, with the group that did worst;
- ``kpi_drift``: the largest changes over time (by the Kolmogorov–Smirnov distance of the test
  that found them), one per series, at most :data:`MAX_DRIFT_FINDINGS`;
- ``kpi_outlier``: the groups a breakdown flags as worse, furthest first, at most
  :data:`MAX_OUTLIER_FINDINGS`;
- ``pause_outlier``: the agent who puts the most tickets on waiting-on-customer compared with
  peers, when the funnel test flags them.
"""

from __future__ import annotations

from typing import Any

Finding = dict[str, Any]

KPI_KINDS: tuple[str, ...] = (
    "unmapped_activities",
    "sla_attainment",
    "kpi_drift",
    "kpi_outlier",
    "pause_outlier",
)
"""The finding kinds of this module, in their order of rank among equals."""

SLA_ATTAINMENT_GOAL = 0.9
"""An SLA clock met in fewer than 90% of decided tickets is a finding: most help desks aim at
90–95% attainment."""
MIN_SLA_GROUP = 20
"""A group (a priority, team or channel) needs this many decided tickets to be named as the
worst: with fewer, one bad week decides it."""
MAX_DRIFT_FINDINGS = 3
MAX_OUTLIER_FINDINGS = 3
SLA_GROUPS = (("by_priority", "priority"), ("by_team", "team"), ("by_channel", "channel"))


def derive_kpi_findings(kpi: dict[str, Any]) -> list[Finding]:
    """The findings of the ``kpi`` section ``kpi`` in the order of :data:`KPI_KINDS`.

    Raises ``KeyError`` when the section lacks a key of its contract (``docs/kpi.md``).
    """
    findings = [*_unmapped(kpi), *_sla(kpi.get("sla")), *_drift(kpi.get("drift"))]
    return findings + _outliers(kpi["breakdowns"]) + _pause(kpi["pause_usage"])


def _finding(kind: str, values: dict[str, Any]) -> Finding:
    return {"kind": kind, "impact_s": 0.0, "values": values}


def _unmapped(kpi: dict[str, Any]) -> list[Finding]:
    status_map = kpi["status_map"]
    unmapped: dict[str, int] = status_map["unmapped_activities"]
    if not unmapped:
        return []
    # The document lists them most frequent first; ties are broken by name here all the same.
    top, top_events = min(unmapped.items(), key=lambda item: (-item[1], item[0]))
    return [
        _finding(
            "unmapped_activities",
            {
                "status_map": status_map["name"],
                "activities": len(unmapped),
                "events": sum(unmapped.values()),
                "share_of_events": max(1.0 - float(status_map["coverage"]), 0.0),
                "top_activity": top,
                "top_activity_events": top_events,
            },
        )
    ]


def _sla(sla: dict[str, Any] | None) -> list[Finding]:
    if not sla:
        return []
    findings = []
    for metric in ("first_response", "resolution"):
        overall = sla[metric]["overall"]
        share = overall["share_met"]
        if share is None or share >= SLA_ATTAINMENT_GOAL:
            continue
        values: dict[str, Any] = {
            "metric": metric,
            "share_met": share,
            "met": overall["met"],
            "breached": overall["breached"],
            "with_outcome": overall["with_outcome"],
            "running": overall["running"],
        }
        worst = _worst_sla_group(sla[metric], overall_share=share)
        if worst is not None:
            values.update(worst)
        findings.append(_finding("sla_attainment", values))
    return findings


def _worst_sla_group(attainment: dict[str, Any], *, overall_share: float) -> dict[str, Any] | None:
    """The group with the lowest share met among groups large enough, if below the whole."""
    candidates = [
        (counts["share_met"], dimension, value, counts["with_outcome"])
        for key, dimension in SLA_GROUPS
        for value, counts in (attainment[key] or {}).items()
        if counts["share_met"] is not None and counts["with_outcome"] >= MIN_SLA_GROUP
    ]
    if not candidates:
        return None
    share, dimension, value, decided = min(candidates, key=lambda c: (c[0], c[1], c[2]))
    if share >= overall_share:
        return None
    return {
        "worst_dimension": dimension,
        "worst_group": value,
        "worst_share_met": share,
        "worst_with_outcome": decided,
    }


def _drift(drift: dict[str, Any] | None) -> list[Finding]:
    if not drift:
        return []
    largest = [
        (series, max(series["change_points"], key=lambda change: change["statistic"]))
        for series in drift["series"]
        if series["change_points"]
    ]
    largest.sort(key=lambda item: (-item[1]["statistic"], item[0]["series"]))
    return [
        _finding(
            "kpi_drift",
            {
                "series": series["series"],
                "kind": series["kind"],
                "at": change["at"],
                "statistic": change["statistic"],
                **{
                    f"before_{key}": change["before"][f"{key}_s"]
                    for key in ("median", "p10", "p90")
                },
                **{f"after_{key}": change["after"][f"{key}_s"] for key in ("median", "p10", "p90")},
                "before_n": change["before"]["n"],
                "after_n": change["after"]["n"],
            },
        )
        for series, change in largest[:MAX_DRIFT_FINDINGS]
    ]


def _outliers(breakdowns: list[dict[str, Any]]) -> list[Finding]:
    worse = [
        (breakdown, group)
        for breakdown in breakdowns
        for group in breakdown["groups"]
        if group["outlier"] == "worse" and group["z"] is not None
    ]
    worse.sort(key=lambda item: (-abs(item[1]["z"]), item[0]["dimension"], item[1]["value"]))
    return [
        _finding(
            "kpi_outlier",
            {
                "dimension": breakdown["dimension"],
                "group": group["value"],
                "kpi": breakdown["kpi"],
                "unit": breakdown["unit"],
                "mean": group["mean"],
                "overall": breakdown["overall"],
                "n": group["n"],
                "z": group["z"],
            },
        )
        for breakdown, group in worse[:MAX_OUTLIER_FINDINGS]
    ]


def _pause(usage: list[dict[str, Any]]) -> list[Finding]:
    more = [agent for agent in usage if agent["outlier"] == "more" and agent["z"] is not None]
    touched = sum(int(agent["tickets"]) for agent in usage)
    if not more or not touched:
        return []
    top = min(more, key=lambda agent: (-agent["z"], agent["agent"]))
    return [
        _finding(
            "pause_outlier",
            {
                "agent": top["agent"],
                "tickets": top["tickets"],
                "paused_tickets": top["paused_tickets"],
                "pause_share": top["pause_share"],
                "overall_share": sum(int(agent["paused_tickets"]) for agent in usage) / touched,
                "median_pause_s": top["median_pause_s"],
                "z": top["z"],
                "others": len(more) - 1,
            },
        )
    ]
