"""Short stories: a tiny hand-made log, one function, the exact answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supportflow.eventlog import load_event_log
from supportflow.mining import diagnose

HEADER = "case_id,activity,timestamp,resource,team\n"


def run(tmp_path: Path, rows: str) -> dict[str, Any]:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return diagnose(load_event_log(path)).to_dict()


def test_ticket_bounced_between_teams(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        "T1,Open,2024-01-01T09:00:00Z,ann,L1\n"
        "T1,Escalate,2024-01-01T10:00:00Z,ann,L1\n"
        "T1,Work,2024-01-01T12:00:00Z,bob,L2\n"
        "T1,Work,2024-01-01T13:00:00Z,bob,L2\n"
        "T1,Return,2024-01-01T15:00:00Z,cat,L1\n"
        "T2,Open,2024-01-02T09:00:00Z,ann,L1\n"
        "T2,Close,2024-01-02T09:30:00Z,dan,L1\n",
    )
    # T1's teams collapse to L1, L2, L1: a bounce. T2 never leaves L1.
    assert doc["pingpong"] == {"activity_cases": 0, "team_cases": 1, "resource_cases": 0}
    assert doc["handover"]["teams"] == [
        {"source": "L1", "target": "L2", "count": 1, "cases": 1},
        {"source": "L2", "target": "L1", "count": 1, "cases": 1},
    ]
    assert doc["handover"]["resources"] == [
        {"source": "ann", "target": "bob", "count": 1, "cases": 1},
        {"source": "ann", "target": "dan", "count": 1, "cases": 1},
        {"source": "bob", "target": "cat", "count": 1, "cases": 1},
    ]
    assert doc["rework"]["self_loops"] == {
        "repeat": 1,
        "redo": 0,
        "repeat_cases": 1,
        "redo_cases": 0,
    }
    assert doc["rework"]["per_activity"] == {"Work": 1}
    assert doc["workload"]["teams"] == [
        {"name": "L1", "events": 5, "cases": 2, "share": 5 / 7},
        {"name": "L2", "events": 2, "cases": 1, "share": 2 / 7},
    ]


def test_activity_pingpong_and_redo(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        "T1,Work,2024-01-01T09:00:00Z,ann,L1\n"
        "T1,Wait,2024-01-01T10:00:00Z,ann,L1\n"
        "T1,Work,2024-01-01T11:00:00Z,bob,L1\n"
        "T1,Work,2024-01-01T11:30:00Z,cat,L1\n",
    )
    assert doc["pingpong"]["activity_cases"] == 1
    assert doc["rework"]["self_loops"] == {
        "repeat": 0,
        "redo": 1,
        "repeat_cases": 0,
        "redo_cases": 1,
    }
    assert doc["rework"]["cases_with_rework"] == 1
    assert doc["variants"] == [
        {
            "activities": ["Work", "Wait", "Work", "Work"],
            "cases": 1,
            "share": 1.0,
            "median_duration_s": 9000.0,
        }
    ]


def test_ties_keep_file_order(tmp_path: Path) -> None:
    # Rows arrive out of time order; the two events at 10:00 keep their file order.
    doc = run(
        tmp_path,
        "T1,Close,2024-01-01T11:00:00Z,ann,L1\n"
        "T1,B,2024-01-01T10:00:00Z,ann,L1\n"
        "T1,A,2024-01-01T10:00:00Z,ann,L1\n"
        "T1,Open,2024-01-01T09:00:00Z,ann,L1\n",
    )
    assert doc["variants"][0]["activities"] == ["Open", "B", "A", "Close"]
    assert [(e["source"], e["target"], e["median_s"]) for e in doc["dfg"]] == [
        ("A", "Close", 3600.0),
        ("B", "A", 0.0),
        ("Open", "B", 3600.0),
    ]


def test_log_without_resources_reports_none_not_zero(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("case,activity,time\nT1,A,2024-01-01 09:00\nT1,B,2024-01-01 10:00\n")
    doc = diagnose(load_event_log(path)).to_dict()
    assert doc["pingpong"] == {"activity_cases": 0, "team_cases": None, "resource_cases": None}
    assert doc["rework"]["self_loops"] is None
    assert doc["handover"] == {"resources": [], "teams": []}
    assert doc["workload"] == {"resources": [], "teams": []}


def test_heatmap_in_display_zone(tmp_path: Path) -> None:
    # 23:30 UTC on Sunday 2024-01-07 is 00:30 on Monday in Rome (UTC+1 in winter).
    path = tmp_path / "log.csv"
    path.write_text(
        "case,activity,time\nT1,A,2024-01-07T23:30:00+00:00\nT1,B,2024-01-08T01:00:00+00:00\n"
    )
    utc = diagnose(load_event_log(path)).to_dict()["heatmaps"]
    rome = diagnose(load_event_log(path, timezone="Europe/Rome")).to_dict()["heatmaps"]
    assert utc["arrivals"][6][23] == 1
    assert rome["arrivals"][0][0] == 1
    assert rome["timezone"] == "Europe/Rome"
    assert rome["median_wait_s"][0][0] == 5400.0


def test_one_event_log_has_no_arcs_and_zero_durations(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("case,activity,time\nT1,A,2024-01-01 09:00\n", encoding="utf-8")
    doc = diagnose(load_event_log(path)).to_dict()
    assert doc["dfg"] == [] and doc["bottlenecks"] == []
    assert doc["case_duration_s"] == {
        "mean": 0.0,
        "median": 0.0,
        "p90": 0.0,
        "min": 0.0,
        "max": 0.0,
    }
    assert doc["start_activities"] == doc["end_activities"] == {"A": 1}
    assert doc["heatmaps"]["median_wait_s"] == [[None] * 24 for _ in range(7)]


def test_handler_columns_that_are_always_empty(tmp_path: Path) -> None:
    # Mapped but empty: the figures are zero (nothing was handed over), not missing.
    doc = run(tmp_path, "T1,A,2024-01-01T09:00:00Z,,\nT1,A,2024-01-01T10:00:00Z,,\n")
    assert doc["pingpong"] == {"activity_cases": 0, "team_cases": 0, "resource_cases": 0}
    assert doc["rework"]["self_loops"] == {
        "repeat": 0,
        "redo": 0,
        "repeat_cases": 0,
        "redo_cases": 0,
    }
    assert doc["handover"] == {"resources": [], "teams": []}
    assert doc["workload"] == {"resources": [], "teams": []}
