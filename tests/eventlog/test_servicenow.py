"""Stories of a ServiceNow incident audit export (the UCI "incident management process
enriched event log" layout) becoming canonical ticket events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from supportflow.eventlog.load import load_event_log

FIXTURE = Path(__file__).parent.parent / "fixtures" / "servicenow_incidents.csv"
QUERY = (
    "SELECT case_id, activity, ts, resource, team, channel FROM events ORDER BY case_id, ts, seq"
)


def us(*parts: int) -> int:
    """UTC epoch microseconds of a calendar instant."""
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1_000_000)


def test_incident_updates_become_state_events() -> None:
    log = load_event_log(FIXTURE, preset="servicenow")

    phone, email, portal = "Phone", "Email", "Self service"
    waiting, r31 = "Awaiting User Info", "Resolver 31"
    assert log.con.execute(QUERY).fetchall() == [
        ("INC0010001", "New", us(2016, 2, 29, 1, 23), None, "Group 70", phone),
        ("INC0010001", "Active", us(2016, 2, 29, 8, 53), "Resolver 112", "Group 70", phone),
        ("INC0010001", "Active", us(2016, 3, 1, 10, 5), None, "Group 24", phone),
        ("INC0010001", "Active", us(2016, 3, 1, 14, 40), "Resolver 112", "Group 70", phone),
        ("INC0010001", "Resolved", us(2016, 3, 2, 9, 12), "Resolver 112", "Group 70", phone),
        ("INC0010001", "Closed", us(2016, 3, 7, 10, 0), "Resolver 112", "Group 70", phone),
        ("INC0010002", "New", us(2016, 3, 3, 16, 20), None, "Group 56", email),
        ("INC0010002", "Active", us(2016, 3, 3, 17, 2), "Resolver 31", "Group 56", email),
        ("INC0010002", waiting, us(2016, 3, 4, 9, 30), r31, "Group 56", email),
        ("INC0010002", "Active", us(2016, 3, 8, 11, 45), "Resolver 31", "Group 56", email),
        ("INC0010002", "Resolved", us(2016, 3, 9, 15, 10), "Resolver 31", "Group 56", email),
        ("INC0010002", "Closed", us(2016, 3, 14, 16, 0), "Resolver 31", "Group 56", email),
        ("INC0010003", "New", us(2016, 3, 13, 22, 41), None, None, portal),
        ("INC0010003", "Active", us(2016, 3, 14, 8, 5), "Resolver 5", "Group 56", portal),
        ("INC0010003", "Resolved", us(2016, 3, 14, 8, 50), "Resolver 5", "Group 56", portal),
    ]
    assert (log.report.rows_read, log.report.rejected_rows) == (15, 0)


def test_question_mark_means_missing() -> None:
    log = load_event_log(FIXTURE, preset="servicenow")

    assert log.con.execute(
        "SELECT count(*) FILTER (resource IS NULL), count(*) FILTER (team IS NULL), "
        "count(*) FILTER (resource = '?' OR team = '?') FROM events"
    ).fetchall() == [(4, 1, 0)]


def test_day_first_dates_are_read_as_day_first() -> None:
    log = load_event_log(FIXTURE, preset="servicenow")

    assert log.report.timestamp_format == "%d/%m/%Y %H:%M (day-first)"
    assert log.con.execute(
        "SELECT min(ts) FROM events WHERE case_id = 'INC0010001'"
    ).fetchall() == [(us(2016, 2, 29, 1, 23),)]


def test_day_first_is_decided_by_the_data_without_the_preset() -> None:
    log = load_event_log(FIXTURE)

    assert log.report.timestamp_format == "%d/%m/%Y %H:%M (day-first)"
    assert log.report.notes[0] == (
        "column 'sys_updated_at': day-first: first date parts reach 29, so they are days"
    )


def test_reassignment_to_another_group_and_back_is_kept() -> None:
    log = load_event_log(FIXTURE, preset="servicenow")

    assert log.con.execute(
        "SELECT team FROM events WHERE case_id = 'INC0010001' AND activity = 'Active' "
        "ORDER BY ts, seq"
    ).fetchall() == [("Group 70",), ("Group 24",), ("Group 70",)]
