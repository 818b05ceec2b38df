"""KPI sections for the report tests: the demo log's, computed for real, and a hand-made one.

``demo_kpi()`` runs the KPI pipeline on the bundled help-desk log (4,580 tickets) with a simple
SLA policy, once per test session. ``small_kpi()`` is written by hand: a desk with two channels,
two agents, two priorities and one waiting time that changed on 4 March 2024, every figure
chosen so that what the report prints can be checked with pen and paper.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from supportflow.eventlog import load_event_log
from supportflow.kpi.compute import compute_kpis
from supportflow.rules.sla import SlaPolicy

DEMO = Path(__file__).parents[2] / "src" / "supportflow" / "data" / "helpdesk.csv.gz"
HOSTILE = "<script>window.__pwned=1</script>"
DAY = 86400.0

DEMO_POLICY = {
    "pause_states": ["waiting_on_customer"],
    "targets": [{"priority": "*", "first_response": "1d", "resolution": "5d"}],
    "kpi_targets": {"first_response_time": "1d", "resolution_time": "7d"},
}


@functools.cache
def _demo_kpi() -> dict[str, Any]:
    log = load_event_log(DEMO)
    return compute_kpis(log, sla=SlaPolicy.model_validate(DEMO_POLICY)).to_dict()


def demo_kpi() -> dict[str, Any]:
    """A fresh copy of the demo log's KPI section (computed once per session)."""
    return copy.deepcopy(_demo_kpi())


def _attainment(tickets: int, met: int, breached: int, running: int) -> dict[str, Any]:
    decided = met + breached
    return {
        "tickets": tickets,
        "with_outcome": decided,
        "met": met,
        "breached": breached,
        "running": running,
        "share_met": met / decided if decided else None,
    }


def _stats(
    start: str, end: str, n: int, median_s: float, p10_s: float, p90_s: float
) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "n": n,
        "mean_s": median_s,
        "median_s": median_s,
        "p10_s": p10_s,
        "p25_s": p10_s,
        "p75_s": p90_s,
        "p90_s": p90_s,
        "min_s": p10_s,
        "max_s": p90_s,
    }


def _period(start: str, n: int, median_s: float, p10_s: float, p90_s: float) -> dict[str, Any]:
    return {
        "start": start,
        "n": n,
        "mean_s": median_s,
        "median_s": median_s,
        "p10_s": p10_s,
        "p90_s": p90_s,
    }


def small_kpi() -> dict[str, Any]:
    """The hand-made KPI section (see the module docstring)."""
    return {
        "schema_version": "1.0",
        "status_map": {
            "name": "my-desk",
            "chosen_by": "given",
            "coverage": 0.75,
            "unmapped_activities": {"Internal memo": 8, "Escalate": 2},
            "assignment_source": "status map",
            "attributes": {},
        },
        "tickets": 100,
        "clock": "2024-04-30T16:00:00+00:00",
        "timezone": "Europe/Rome",
        "kpis": [
            {
                "name": "first_response_time",
                "unit": "duration",
                "formula": "first response − creation",
                "count": 90,
                "mean": 5400.0,  # 1.5 h
                "median": 2700.0,  # 45 min
                "p90": 12600.0,  # 3.5 h
                "target": 3600.0,
                "share_within_target": 0.55,
            },
            {
                "name": "first_contact_resolution",
                "unit": "rate",
                "formula": "resolved at once",
                "count": 80,
                "mean": 0.625,
                "median": None,
                "p90": None,
                "target": None,
                "share_within_target": None,
            },
            {
                "name": "reassignments",
                "unit": "count",
                "formula": "changes of assignee",
                "count": 100,
                "mean": 0.3,
                "median": 0.0,
                "p90": 1.0,
                "target": None,
                "share_within_target": None,
            },
        ],
        "flow": {
            "daily": [
                {"date": "2024-03-04", "arrivals": 4, "resolutions": 1, "backlog": 3},
                {"date": "2024-03-05", "arrivals": 3, "resolutions": 2, "backlog": 4},
                {"date": "2024-03-07", "arrivals": 3, "resolutions": 5, "backlog": 2},
            ],
            "arrivals_by_hour": [0] * 9 + [5, 3, 2] + [0] * 12,
            "arrivals_by_weekday": [4, 3, 0, 3, 0, 0, 0],
            "resolutions_by_hour": [0] * 10 + [4, 2, 2] + [0] * 11,
            "resolutions_by_weekday": [1, 2, 0, 5, 0, 0, 0],
            "peak_backlog": 4,
            "peak_backlog_date": "2024-03-05",
            "backlog_age": {
                "open_tickets": 2,
                "median_age_s": 1.5 * DAY,
                "p90_age_s": 2.5 * DAY,
                "oldest_age_s": 2.6 * DAY,
                "buckets": [0, 0, 2, 0, 0, 0],
            },
        },
        "breakdowns": [
            {
                "dimension": "channel",
                "kpi": "first_response_time",
                "unit": "duration",
                "overall": 5400.0,
                "overdispersion": 1.34,
                "groups": [
                    {
                        "value": "email",
                        "n": 50,
                        "mean": 9000.0,
                        "median": 7200.0,
                        "p90": 14400.0,
                        "z": 3.5,
                        "outlier": "worse",
                    },
                    {
                        "value": HOSTILE,
                        "n": 38,
                        "mean": 1800.0,
                        "median": 1500.0,
                        "p90": 3000.0,
                        "z": -3.2,
                        "outlier": "better",
                    },
                    {
                        "value": "chat",
                        "n": 2,
                        "mean": 600.0,
                        "median": 600.0,
                        "p90": 900.0,
                        "z": None,
                        "outlier": None,
                    },
                ],
                "groups_total": 3,
            },
            {
                "dimension": "hour",
                "kpi": "first_contact_resolution",
                "unit": "rate",
                "overall": 0.625,
                "overdispersion": 1.0,
                "groups": [
                    {
                        "value": "9",
                        "n": 40,
                        "mean": 0.4,
                        "median": None,
                        "p90": None,
                        "z": -4.04,
                        "outlier": "worse",
                    },
                    {
                        "value": "10",
                        "n": 40,
                        "mean": 0.85,
                        "median": None,
                        "p90": None,
                        "z": 2.9,
                        "outlier": None,
                    },
                ],
                "groups_total": 2,
            },
        ],
        "pause_usage": [
            {
                "agent": "Anna",
                "tickets": 8,
                "paused_tickets": 6,
                "pause_share": 0.75,
                "median_pause_s": 7200.0,
                "z": 3.2,
                "outlier": "more",
            },
            {
                "agent": "Bo",
                "tickets": 12,
                "paused_tickets": 2,
                "pause_share": 2 / 12,
                "median_pause_s": 600.0,
                "z": -1.0,
                "outlier": None,
            },
        ],
        "sla": {
            "clock": "2024-04-30T16:00:00+00:00",
            "pause_states": ["waiting_on_customer"],
            "first_response": {
                "overall": _attainment(100, 60, 30, 10),
                "no_target": 0,
                "by_priority": {"P2": _attainment(60, 44, 6, 10), "P1": _attainment(40, 16, 24, 0)},
                "by_team": None,
                "by_channel": None,
            },
            "resolution": {
                "overall": _attainment(100, 90, 5, 5),
                "no_target": 3,
                "by_priority": {"P2": _attainment(60, 55, 2, 3), "P1": _attainment(40, 35, 3, 2)},
                "by_team": None,
                "by_channel": None,
            },
        },
        "drift": {
            "period": "month",
            "timezone": "Europe/Rome",
            "series": [
                {
                    "series": "Resolve ticket → Closed",
                    "kind": "transition",
                    "periods": [
                        _period("2024-01-01", 20, 30 * DAY, 15 * DAY, 45 * DAY),
                        _period("2024-02-01", 20, 29 * DAY, 16 * DAY, 44 * DAY),
                        _period("2024-03-01", 15, 15 * DAY, 15 * DAY, 20 * DAY),
                        _period("2024-04-01", 10, 15 * DAY, 15 * DAY, 15 * DAY),
                    ],
                    "change_points": [
                        {
                            "at": "2024-03-04",
                            "period_start": "2024-03-01",
                            "before": _stats(
                                "2024-01-02", "2024-03-01", 40, 30 * DAY, 15 * DAY, 45 * DAY
                            ),
                            "after": _stats(
                                "2024-03-04", "2024-04-26", 25, 15 * DAY, 15 * DAY, 15 * DAY
                            ),
                            "statistic": 0.8,
                            "p_value": 0.0,
                            "description": "Resolve ticket → Closed: median 30.0 d before 2024-03-04",
                        }
                    ],
                },
                {
                    "series": "first_response_time",
                    "kind": "kpi",
                    "periods": [_period("2024-01-01", 30, 2700.0, 60.0, 12600.0)],
                    "change_points": [],
                },
            ],
        },
        "timings_s": {"total": 0.1},
    }


def kpi_only(kpi: dict[str, Any]) -> dict[str, Any]:
    """The document ``supportflow kpi --json`` writes around the section ``kpi``."""
    return {"generator": "supportflow 0.1.0", "kpi": kpi}
