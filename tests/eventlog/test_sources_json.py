"""Stories of Zendesk and Freshdesk JSON exports becoming canonical ticket events."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supportflow.eventlog.errors import UnsupportedFormatError
from supportflow.eventlog.load import load_event_log

FIXTURES = Path(__file__).parent.parent / "fixtures"
QUERY = (
    "SELECT case_id, activity, ts, resource, team, channel FROM events ORDER BY case_id, ts, seq"
)


def us(*parts: int) -> int:
    """UTC epoch microseconds of a calendar instant."""
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1_000_000)


def write_lines(path: Path, *values: object) -> Path:
    path.write_text("".join(json.dumps(value) + "\n" for value in values), encoding="utf-8")
    return path


# --- Zendesk ---------------------------------------------------------------------------------


def test_zendesk_pages_become_one_row_per_child_event() -> None:
    log = load_event_log(FIXTURES / "zendesk_ticket_events.json", preset="zendesk")

    web, email, phone = "Web form", "Email", "Phone call (incoming)"
    assert log.con.execute(QUERY).fetchall() == [
        ("48211", "Ticket created", us(2024, 6, 10, 8, 2, 11), "911001", "3300402", web),
        ("48211", "Assigned", us(2024, 6, 10, 9, 15, 40), "902113", None, web),
        ("48211", "Status: open", us(2024, 6, 10, 9, 15, 40), "902113", None, web),
        ("48211", "Public reply", us(2024, 6, 10, 9, 15, 40), "902113", None, web),
        ("48211", "Status: pending", us(2024, 6, 10, 15, 4, 5), "902113", None, web),
        ("48211", "Group changed", us(2024, 6, 10, 15, 4, 5), "902113", "3300417", web),
        ("48211", "Internal note", us(2024, 6, 10, 15, 4, 5), "902113", None, web),
        ("48211", "Status: open", us(2024, 6, 11, 11, 20), "911001", None, email),
        ("48211", "Public reply", us(2024, 6, 11, 11, 20), "911001", None, email),
        ("48212", "Ticket created", us(2024, 6, 10, 9, 30), "911002", "3300417", email),
        ("48212", "Assigned", us(2024, 6, 11, 10, 0), "902200", None, web),
        ("48212", "Status: open", us(2024, 6, 11, 10, 0), "902200", None, web),
        ("48212", "Priority: high", us(2024, 6, 11, 10, 0), "902200", None, web),
        ("48212", "Changed tags", us(2024, 6, 11, 10, 0), "902200", None, web),
        ("48213", "Ticket created", us(2024, 6, 11, 7, 45), "902200", "3300402", phone),
        ("48213", "Status: solved", us(2024, 6, 11, 12, 30), "902200", None, web),
        ("48213", "Public reply", us(2024, 6, 11, 12, 30), "902200", None, web),
        ("48214", "Ticket created", us(2024, 6, 12, 6, 0), "911004", "3300402", "Chat"),
        ("48214", "Status: open", us(2024, 6, 12, 6, 5), "-1", None, "Rule"),
        ("48214", "Notification", us(2024, 6, 12, 6, 5), "-1", None, "Rule"),
    ]


def test_zendesk_audit_repeated_by_the_next_page_is_read_once() -> None:
    log = load_event_log(FIXTURES / "zendesk_ticket_events.json", preset="zendesk")

    # Audit 51830010301 (ticket 48213 created) is on both pages of the fixture.
    assert log.con.execute(
        "SELECT count(*) FROM events WHERE case_id = '48213' AND activity = 'Ticket created'"
    ).fetchall() == [(1,)]
    assert (log.report.rows_read, log.report.rejected_rows) == (20, 0)


def test_zendesk_extra_columns_keep_assignee_priority_and_visibility() -> None:
    log = load_event_log(
        FIXTURES / "zendesk_ticket_events.json", preset="zendesk", keep_attributes=True
    )

    rows = log.con.execute(
        'SELECT activity, priority, "attr:assignee", "attr:status", "attr:visibility", '
        '"attr:previous_value", "attr:event_id" FROM events '
        "WHERE case_id IN ('48212', '48213') ORDER BY case_id, ts, seq"
    ).fetchall()
    assert rows == [
        ("Ticket created", None, None, "new", None, None, "51830010211"),
        ("Assigned", None, "902200", None, None, None, "51830010411"),
        ("Status: open", None, None, None, None, "new", "51830010421"),
        ("Priority: high", "high", None, None, None, None, "51830010431"),
        ("Changed tags", None, None, None, None, '["billing"]', "51830010441"),
        ("Ticket created", "high", "902200", "open", None, None, "51830010311"),
        ("Status: solved", None, None, None, None, "open", "51830010611"),
        ("Public reply", None, None, None, "public", None, "51830010621"),
    ]


def test_zendesk_single_events_as_json_lines_with_unix_time_and_comment_flags(
    tmp_path: Path,
) -> None:
    # Without the comment_events sideload, comments are only flags on the children.
    source = write_lines(
        tmp_path / "events.jsonl",
        {"id": 1, "ticket_id": 7, "timestamp": 1718031845, "updater_id": 5, "via": "Mail",
         "event_type": "Audit", "child_events": [
             {"id": 11, "event_type": "Change", "status": "hold", "previous_value": "open",
              "comment_present": True, "comment_public": False},
             {"id": 12, "event_type": "Change", "priority": None, "previous_value": "low",
              "comment_present": True, "comment_public": False}]},
        {"id": 2, "ticket_id": 7, "created_at": "2024-06-10T16:00:00Z", "updater_id": 5,
         "via": {"channel": "web"}, "event_type": "Audit", "child_events": [
             {"id": 21, "event_type": "Change", "assignee_id": None, "previous_value": "5",
              "comment_present": True, "comment_public": True}]},
    )  # fmt: skip

    log = load_event_log(source, preset="zendesk")

    assert log.con.execute(QUERY).fetchall() == [
        ("7", "Status: hold", us(2024, 6, 10, 15, 4, 5), "5", None, "Mail"),
        ("7", "Priority: none", us(2024, 6, 10, 15, 4, 5), "5", None, "Mail"),
        ("7", "Internal note", us(2024, 6, 10, 15, 4, 5), "5", None, "Mail"),
        ("7", "Unassigned", us(2024, 6, 10, 16, 0), "5", None, "web"),
        ("7", "Public reply", us(2024, 6, 10, 16, 0), "5", None, "web"),
    ]


def test_zendesk_pretty_printed_page_is_one_document(tmp_path: Path) -> None:
    page = {"ticket_events": [
        {"id": 1, "ticket_id": 9, "created_at": "2024-06-10T08:00:00Z", "updater_id": 3,
         "via": "Web form", "event_type": "Audit",
         "child_events": [{"id": 10, "event_type": "Change", "status": "solved"}]}],
        "end_time": 1718006400, "end_of_stream": True}  # fmt: skip
    source = tmp_path / "page.json"
    source.write_text(json.dumps(page, indent=2), encoding="utf-8")

    log = load_event_log(source, preset="zendesk")

    assert log.con.execute(QUERY).fetchall() == [
        ("9", "Status: solved", us(2024, 6, 10, 8, 0), "3", None, "Web form"),
    ]


def test_zendesk_event_without_ticket_or_time_is_rejected_not_dropped(tmp_path: Path) -> None:
    change = {"event_type": "Change", "status": "open"}
    source = write_lines(
        tmp_path / "events.jsonl",
        {"id": 1, "ticket_id": 4, "created_at": "2024-06-10T08:00:00Z", "child_events": [change]},
        {"id": 2, "created_at": "2024-06-10T09:00:00Z", "child_events": [change]},
        {"id": 3, "ticket_id": 4, "child_events": [change]},
    )
    rejects = tmp_path / "rejects.csv"

    log = load_event_log(source, preset="zendesk", rejects_path=rejects)

    assert log.con.execute("SELECT case_id, activity FROM events").fetchall() == [
        ("4", "Status: open")
    ]
    assert log.report.reject_reasons == {"empty case id": 1, "empty timestamp": 1}
    with rejects.open(encoding="utf-8") as stream:
        assert [(r["row"], r["reason"]) for r in csv.DictReader(stream)] == [
            ("2", "empty case id"),
            ("3", "empty timestamp"),
        ]


def test_zendesk_malformed_json_line_names_file_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(
        '{"ticket_events": [], "end_time": 1718006400}\n{"ticket_events": [\n', encoding="utf-8"
    )

    with pytest.raises(UnsupportedFormatError) as raised:
        load_event_log(source, preset="zendesk")

    assert str(raised.value) == f"{source}: malformed JSON at line 2, column 20: Expecting value"


def test_zendesk_malformed_pretty_printed_page_names_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "page.json"
    source.write_text('{\n  "ticket_events": [\n    {"id": 1,}\n  ]\n}\n', encoding="utf-8")

    with pytest.raises(UnsupportedFormatError) as raised:
        load_event_log(source, preset="zendesk")

    assert str(raised.value) == (
        f"{source}: malformed JSON at line 3, column 14: "
        "Expecting property name enclosed in double quotes"
    )


def test_zendesk_preset_on_another_json_export_says_what_it_found(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "metrics.json", {"ticket_metric_events": [], "count": 0})

    with pytest.raises(UnsupportedFormatError) as raised:
        load_event_log(source, preset="zendesk")

    assert str(raised.value) == (
        f"{source}: line 1 is not a Zendesk ticket event nor an incremental export page "
        "(expected 'ticket_events' or 'child_events'); found an object with keys "
        "['count', 'ticket_metric_events']"
    )


# --- Freshdesk -------------------------------------------------------------------------------


def test_freshdesk_activities_become_one_row_per_activity_key() -> None:
    log = load_event_log(FIXTURES / "freshdesk_activities.json", preset="freshdesk")

    agent = "43001177202"
    assert log.con.execute(QUERY).fetchall() == [
        ("7731", "Ticket created", us(2024, 6, 10, 8, 0), "43001100001", "Support", "Portal"),
        ("7731", "Assigned", us(2024, 6, 10, 9, 12, 30), agent, None, None),
        ("7731", "Priority: High", us(2024, 6, 10, 9, 12, 30), agent, None, None),
        ("7731", "Status: Pending", us(2024, 6, 10, 15, 4, 5), agent, None, None),
        ("7731", "Group changed", us(2024, 6, 10, 15, 4, 5), agent, "Billing", None),
        ("7731", "Note added", us(2024, 6, 10, 15, 4, 5), agent, None, None),
        # 13-06-2024 10:30:00 +0530 is 05:00 UTC: day-first, offset applied.
        ("7731", "Status: Resolved", us(2024, 6, 13, 5, 0), agent, None, None),
        ("7732", "Ticket created", us(2024, 6, 11, 7, 30), "43001100002", "Support", "Phone"),
        ("7732", "Changed cf_refund_reason", us(2024, 6, 11, 7, 31, 10), "43001177305", None, None),
        ("7732", "Status: Closed", us(2024, 6, 14, 0, 0, 12), "43001000000", None, None),
    ]


def test_freshdesk_extra_columns_keep_codes_read_as_labels() -> None:
    log = load_event_log(
        FIXTURES / "freshdesk_activities.json", preset="freshdesk", keep_attributes=True
    )

    rows = log.con.execute(
        'SELECT activity, priority, "attr:assignee", "attr:status", "attr:note_type", '
        '"attr:new_value", "attr:performer_type" FROM events '
        "WHERE case_id = '7732' ORDER BY ts, seq"
    ).fetchall()
    assert rows == [
        ("Ticket created", "Medium", "43001177305", "Open", None, None, "user"),
        ("Changed cf_refund_reason", None, None, None, None, "Duplicate charge", "user"),
        ("Status: Closed", None, None, None, None, None, "system"),
    ]


def test_freshdesk_impossible_date_and_missing_ticket_are_rejected(tmp_path: Path) -> None:
    source = tmp_path / "activities.json"
    source.write_text(json.dumps({"activities_data": [
        {"performed_at": "10-06-2024 08:00:00 +0000", "ticket_id": 1, "activity": {"status": 3}},
        {"performed_at": "31-02-2024 08:00:00 +0000", "ticket_id": 1, "activity": {"status": 4}},
        {"performed_at": "10-06-2024 09:00:00 +0000", "activity": {"status": 4}},
        {"performed_at": "10-06-2024 10:00:00 +0000", "ticket_id": 1},
    ]}), encoding="utf-8")  # fmt: skip

    log = load_event_log(source, preset="freshdesk")

    assert log.con.execute("SELECT case_id, activity FROM events").fetchall() == [
        ("1", "Status: Pending")
    ]
    assert log.report.reject_reasons == {
        "unparseable timestamp": 1,
        "empty case id": 1,
        "empty activity": 1,
    }


def test_freshdesk_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "activities.json"
    source.write_text('{\n  "activities_data": [\n    {"ticket_id": 1\n  ]\n}\n', encoding="utf-8")

    with pytest.raises(UnsupportedFormatError) as raised:
        load_event_log(source, preset="freshdesk")

    assert str(raised.value) == (
        f"{source}: malformed JSON at line 4, column 3: Expecting ',' delimiter"
    )
