"""Hand-computed stories: four tickets of one day, read through a small status map."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.eventlog import load_event_log
from supportflow.kpi.compute import compute_kpis
from supportflow.kpi.tickets import build_ticket_tables
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules import StatusMap

STATUS = StatusMap(
    name="story",
    created=["New"],
    assigned=["Assign"],
    first_response=["Reply"],
    in_progress=["Open"],
    waiting_on_customer=["Pending"],
    resolved=["Solved"],
    closed=["Closed"],
    other=["Note"],
)
ROWS = [
    # T1: answered, paused once, solved, reopened by team Y (one handover: Y picking agent B
    # completes it), solved, closed
    ("T1", "New", "09:00", "", "X"),
    ("T1", "Assign", "09:10", "A", "X"),
    ("T1", "Reply", "09:30", "A", "X"),
    ("T1", "Open", "09:30", "A", "X"),
    ("T1", "Pending", "10:00", "A", "X"),
    ("T1", "Note", "11:00", "A", "X"),
    ("T1", "Open", "12:00", "A", "X"),
    ("T1", "Solved", "13:00", "A", "X"),
    ("T1", "Open", "15:00", "B", "Y"),
    ("T1", "Assign", "15:05", "B", "Y"),
    ("T1", "Solved", "16:00", "B", "Y"),
    ("T1", "Closed", "18:00", "B", "Y"),
    # T2: solved on first contact without a reply event
    ("T2", "New", "08:00", "", "X"),
    ("T2", "Assign", "08:30", "A", "X"),
    ("T2", "Open", "08:30", "A", "X"),
    ("T2", "Solved", "09:00", "A", "X"),
    ("T2", "Closed", "11:00", "A", "X"),
    # T3: still waiting on the customer when the log ends (18:00)
    ("T3", "New", "10:00", "", "X"),
    ("T3", "Assign", "10:30", "C", "X"),
    ("T3", "Open", "11:00", "C", "X"),
    ("T3", "Pending", "12:00", "C", "X"),
    # T4: bounced X → Y → X, never formally assigned
    ("T4", "New", "07:00", "", "X"),
    ("T4", "Open", "07:10", "A", "X"),
    ("T4", "Open", "07:20", "D", "Y"),
    ("T4", "Open", "07:30", "A", "X"),
    ("T4", "Solved", "07:40", "A", "X"),
]


def us(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return 1_717_200_000_000_000 + (int(hours) * 3600 + int(minutes) * 60) * 1_000_000


@pytest.fixture
def story_log(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "story.csv"
    lines = ["case,activity,time,agent,group"]
    lines += [f"{c},{a},2024-06-01T{t}:00Z,{r},{g}" for c, a, t, r, g in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_event_log(path)


def test_ticket_facts_are_read_through_the_status_map(story_log) -> None:  # type: ignore[no-untyped-def]
    engine = DuckDBEngine(story_log.con)
    tables = build_ticket_tables(engine, story_log, STATUS)
    assert tables.unmapped_activities == {}
    rows = story_log.con.execute(
        "SELECT case_id, created_us, first_assigned_us, first_response_us, first_resolved_us, "
        "resolved_us, closed_us, is_open, reopens, reassignments, team_transfers, handovers, pingpong, "
        "handling_s, waiting_on_customer_s, fcr, team, agent FROM kpi_tickets ORDER BY case_id"
    ).fetchall()
    assert rows == [
        # handling: 09:30-10:00, 12:00-13:00, 15:00-16:00 = 150 min; paused 10:00-12:00
        ("T1", us("09:00"), us("09:10"), us("09:30"), us("13:00"), us("16:00"), us("18:00"),
         False, 1, 1, 1, 1, False, 9000.0, 7200.0, False, "Y", "B"),
        ("T2", us("08:00"), us("08:30"), None, us("09:00"), us("09:00"), us("11:00"),
         False, 0, 0, 0, 0, False, 1800.0, 0.0, True, "X", "A"),
        # open: the pause runs until the clock, the log's last event (18:00)
        ("T3", us("10:00"), us("10:30"), None, None, None, None,
         True, 0, 0, 0, 0, False, 3600.0, 6 * 3600.0, False, "X", "C"),
        ("T4", us("07:00"), None, None, us("07:40"), us("07:40"), None,
         False, 0, 0, 2, 2, True, 1800.0, 0.0, False, "X", "A"),
    ]  # fmt: skip


def test_kpi_summaries_and_backlog(story_log) -> None:  # type: ignore[no-untyped-def]
    report = compute_kpis(
        story_log, status=STATUS, targets={"first_response_time": 3000.0}, dimensions=["team"]
    )
    kpis = {k.name: k for k in report.kpis}
    first = kpis["first_response_time"]
    # T1 30 min (reply), T2 60 min (its resolution answers it), T4 40 min; T3 has no answer
    assert (first.count, first.mean, first.median) == (3, 2600.0, 2400.0)
    assert first.p90 == pytest.approx(2400 + 0.8 * 1200)
    assert first.share_within_target == pytest.approx(2 / 3)
    assert kpis["reopen_rate"].mean == pytest.approx(1 / 3)
    assert kpis["first_contact_resolution"].mean == pytest.approx(1 / 3)
    assert kpis["first_contact_resolution"].median is None
    assert (kpis["resolution_time"].count, kpis["resolution_time"].median) == (3, 3600.0)
    assert "csat" not in kpis
    (day,) = report.flow.daily
    # four tickets arrive; five resolutions (T1 twice); T1 reopens once: T3 is left
    assert (day.arrivals, day.resolutions, day.backlog) == (4, 4, 1)
    assert report.flow.backlog_age.open_tickets == 1
    assert report.flow.backlog_age.median_age_s == 8 * 3600.0
    assert report.status_map.chosen_by == "given"


def test_unknown_activities_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case,activity,time\n1,New,2024-01-01T00:00Z\n1,Escalate,2024-01-01T01:00Z\n"
        "1,Solved,2024-01-01T02:00Z\n",
        encoding="utf-8",
    )
    log = load_event_log(path)
    tables = build_ticket_tables(DuckDBEngine(log.con), log, STATUS)
    assert tables.unmapped_activities == {"Escalate": 1}


def test_handling_time_comes_from_start_and_complete_when_the_log_has_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lifecycle.csv"
    path.write_text(
        "case,activity,time,lifecycle,csat\n"
        "T1,New,2024-06-01T09:00:00Z,complete,\n"
        "T1,Open,2024-06-01T09:10:00Z,start,\n"
        "T1,Open,2024-06-01T09:40:00Z,complete,\n"
        "T1,Open,2024-06-01T10:00:00Z,start,\n"
        "T1,Open,2024-06-01T10:45:00Z,complete,\n"
        "T1,Solved,2024-06-01T11:00:00Z,complete,4\n"
        "T2,New,2024-06-01T09:00:00Z,complete,\n"
        "T2,Open,2024-06-01T12:00:00Z,start,\n"
        "T2,Solved,2024-06-01T13:00:00Z,complete,2\n",
        encoding="utf-8",
    )
    log = load_event_log(path, keep_attributes=True)
    report = compute_kpis(log, status=STATUS, dimensions=[], drift_period=None)
    assert report.status_map.handling_source == "lifecycle"
    assert report.status_map.attributes == {"csat": "csat"}
    handling = log.con.execute(
        "SELECT case_id, handling_s, csat FROM kpi_tickets ORDER BY case_id"
    ).fetchall()
    # T1: two Open instances, 30 + 45 min; T2: an Open start without its completion adds nothing
    assert handling == [("T1", 4500.0, 4.0), ("T2", 0.0, 2.0)]
    kpis = {k.name: k for k in report.kpis}
    assert (kpis["csat"].count, kpis["csat"].mean) == (2, 3.0)


def write_log(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    return path


def facts(path: Path, columns: str) -> list[tuple[object, ...]]:
    log = load_event_log(path, keep_attributes=True)
    build_ticket_tables(DuckDBEngine(log.con), log, STATUS)
    return log.con.execute(f"SELECT {columns} FROM kpi_tickets ORDER BY case_id").fetchall()


def test_an_agent_change_on_a_row_without_a_team_is_a_handover(tmp_path: Path) -> None:
    path = write_log(
        tmp_path,
        "case,activity,time,agent,group\n"
        "T,New,2024-06-01T09:00:00Z,,G1\n"
        "T,Assign,2024-06-01T09:10:00Z,R1,G1\n"
        "T,Assign,2024-06-01T09:20:00Z,R2,\n"
        "T,Solved,2024-06-01T09:30:00Z,R2,\n",
    )
    # no team is named on R2's row: nothing says the ticket left G1, so R1 → R2 is a handover
    assert facts(path, "reassignments, team_transfers, handovers, fcr") == [(1, 0, 1, False)]


def test_lifecycle_pairs_a_completion_with_its_own_start_and_waits_are_not_work(
    tmp_path: Path,
) -> None:
    status_lines = "case,activity,time,lifecycle\n"
    path = write_log(
        tmp_path,
        status_lines + "T,New,2024-06-01T08:00:00Z,complete\n"
        "T,Open,2024-06-01T09:00:00Z,complete\n"  # logged alone: no start, no span
        "T,Open,2024-06-01T10:00:00Z,start\n"
        "T,Open,2024-06-01T11:00:00Z,complete\n"
        "T,Pending,2024-06-01T12:00:00Z,start\n"  # waiting on the customer is not work
        "T,Pending,2024-06-01T17:00:00Z,complete\n"
        "T,Solved,2024-06-01T18:00:00Z,complete\n",
    )
    assert facts(path, "handling_s") == [(3600.0,)]


def test_names_with_tabs_around_them_match_the_status_map(tmp_path: Path) -> None:
    path = write_log(
        tmp_path,
        'case,activity,time\nT,New,2024-06-01T09:00:00Z\nT,"Solved\t",2024-06-01T10:00:00Z\n',
    )
    assert facts(path, "is_open, resolved_us IS NOT NULL") == [(False, True)]
