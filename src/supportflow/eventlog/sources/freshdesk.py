"""Freshdesk ticket-activities export → canonical ticket events.

Freshdesk's daily activities export is one JSON document,
``{"activities_data": [...], "metadata": {...}}``. Each activity record says which ticket
(``ticket_id``), who (``performer_id``, ``performer_type``), when (``performed_at``, written
day-first as ``10-06-2024 15:04:05 +0000``) and what, as an open map ``activity``: when an agent
moves ticket 7731 to Pending, hands it to Billing and leaves a note, the map is
``{"status": "Pending", "group": "Billing", "note": {"id": ..., "type": 2}}``. Each key of the
map becomes one row, all at the record's time, in the order the keys are written:

=====================  ==============================================================
activity key           row
=====================  ==============================================================
``status``             ``Status: Pending`` (the label; codes 2-5 read as Open, Pending,
                       Resolved, Closed; other codes are kept as the number)
``group``              ``Group changed``; ``team`` is the new group
``agent_id``           ``Assigned`` (``Unassigned`` when cleared); the agent in ``assignee``
``priority``           ``Priority: High`` (1-4 read as Low, Medium, High, Urgent);
                       ``priority`` is the label
``note``               ``Note added``, with ``note_id`` and ``note_type``
``source``             ``Channel changed``; ``channel`` is the label (1 Email, 2 Portal,
                       3 Phone, 7 Chat, 9 Feedback Widget, 10 Outbound Email…)
any other key          ``Changed <key>`` with the value in ``new_value``
=====================  ==============================================================

Decisions, and why:

* **Creation is one event.** A record whose map has ``new_ticket: true`` yields one
  ``Ticket created`` row carrying the ticket's starting ``status``, ``team``, ``assignee``,
  ``priority`` and ``channel`` from the same map, rather than a row per starting value; its other
  keys (a note, custom fields) still yield their own rows. That the creation record is marked
  ``new_ticket`` is our reading of exported samples, not a documented guarantee.
* **Channel.** ``source`` sets ``channel`` on every row of its record. Codes are read with the
  list Freshdesk documents; an account's own codes pass through as numbers (its
  ``GET /api/v2/ticket_fields`` choices say what they mean).
* **Team and priority are not carried forward**: they are set only on the rows that change them
  (and on ``Ticket created``).
* **Notes.** The export does not say whether a note is private; ``Note added`` keeps the note's id
  and ``type`` so that a join with ``/conversations`` can tell replies from internal notes.
* **Time.** ``performed_at`` is rewritten as ISO 8601 with the offset it carries
  (``2024-06-10T15:04:05+00:00``) without checking the date itself, so an impossible date reaches
  the loader, which rejects the row as an unparseable timestamp. A value in another layout is
  passed on unchanged for the same reason.
* **Nothing is dropped silently.** A record without a ticket id or a time still yields its rows
  with that value empty, and a record without an ``activity`` map yields one row with an empty
  activity; the loader rejects these rows into its rejects file with a reason. There is no
  activity id, so nothing is deduplicated: one file per day does not overlap the next.

Besides the export document, the file may hold several such documents (one per line, or back to
back), JSON lines of single activity records, or a JSON array of records; see
:func:`supportflow.eventlog.sources.zendesk.iter_json_values`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supportflow.eventlog.sources.batches import batched
from supportflow.eventlog.sources.json_values import as_text, iter_json_values, records_in
from supportflow.eventlog.sources.zendesk import Row

STATUS_LABELS = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
PRIORITY_LABELS = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
SOURCE_LABELS = {
    1: "Email",
    2: "Portal",
    3: "Phone",
    4: "Forum",
    5: "Twitter",
    6: "Facebook",
    7: "Chat",
    8: "MobiHelp",
    9: "Feedback Widget",
    10: "Outbound Email",
    11: "Ecommerce",
    12: "Bot",
    13: "Whatsapp",
}
# Keys of a creation record that describe the new ticket and so go into its one row.
_CREATION_KEYS = frozenset({"new_ticket", "status", "group", "agent_id", "priority", "source"})
_PERFORMED_AT = re.compile(
    r"^(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})\s+(?P<time>\d{1,2}:\d{2}(:\d{2})?)"
    r"\s*(?:(?P<z>Z)|(?P<oh>[+-]\d{2}):?(?P<om>\d{2}))?$"
)


def read_freshdesk_batches(path: Path) -> Iterator[Any]:
    """Yield record batches of canonical rows from the Freshdesk activities file at ``path``.

    Raises:
        UnsupportedFormatError: the JSON is malformed (with line and column), or a value in the
            file is neither an activities export nor an activity record (with its line).
        EncodingError: the file is not UTF-8.
    """
    return batched(
        row
        for line, value in iter_json_values(path)
        for record in _activity_records(value, path=path, line=line)
        for row in _record_rows(record)
    )


def _activity_records(value: Any, *, path: Path, line: int) -> Iterator[dict[str, Any]]:
    """The activity records in one top-level JSON value: an export, one record or an array."""
    return records_in(
        value,
        container="activities_data",
        is_record=lambda record: "activity" in record or "performed_at" in record,
        path=path,
        line=line,
        expected="a Freshdesk activities export nor an activity record (expected 'activities_data' or 'activity')",
    )


def _record_rows(record: dict[str, Any]) -> Iterator[Row]:
    """The rows of one activity record, in the order its ``activity`` keys are written."""
    changes = record.get("activity")
    base: Row = {
        "case_id": as_text(record.get("ticket_id")) or "",
        "activity": None,
        "timestamp": iso_performed_at(record.get("performed_at")),
        "resource": as_text(record.get("performer_id")),
        "team": None,
        "channel": None,
        "priority": None,
        "performer_type": as_text(record.get("performer_type")),
    }
    if not isinstance(changes, dict) or not changes:
        yield {**base, "activity": ""}
        return
    if "source" in changes:
        base["channel"] = _label(changes["source"], SOURCE_LABELS)
    creating = changes.get("new_ticket") is True
    if creating:
        yield {
            **base,
            "activity": "Ticket created",
            "status": _label(changes.get("status"), STATUS_LABELS),
            "team": as_text(changes.get("group")),
            "assignee": as_text(changes.get("agent_id")),
            "priority": _label(changes.get("priority"), PRIORITY_LABELS),
        }
    for key, value in changes.items():
        if key == "new_ticket" or (creating and key in _CREATION_KEYS):
            continue
        yield _change_row(base, key, value)


def _change_row(base: Row, key: str, value: Any) -> Row:
    if key == "status":
        return {**base, "activity": f"Status: {_label(value, STATUS_LABELS)}"}
    if key == "group":
        return {**base, "activity": "Group changed", "team": as_text(value)}
    if key == "agent_id":
        agent = as_text(value)
        return {**base, "activity": "Assigned" if agent else "Unassigned", "assignee": agent}
    if key == "priority":
        label = _label(value, PRIORITY_LABELS)
        return {**base, "activity": f"Priority: {label}", "priority": label}
    if key == "note":
        note = value if isinstance(value, dict) else {}
        return {
            **base,
            "activity": "Note added",
            "note_id": as_text(note.get("id")),
            "note_type": as_text(note.get("type")),
        }
    if key == "source":
        return {**base, "activity": "Channel changed"}
    return {**base, "activity": f"Changed {key}", "new_value": as_text(value)}


def _label(value: Any, labels: dict[int, str]) -> str | None:
    """The label of a numeric code (``3`` or ``"3"``); labels and unknown codes as written."""
    code: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        code = value
    elif isinstance(value, str) and value.strip().isdigit():
        code = int(value)
    if code is not None and code in labels:
        return labels[code]
    return as_text(value)


def iso_performed_at(value: Any) -> str:
    """``performed_at`` (``DD-MM-YYYY HH:MM:SS +0000``) as ISO 8601 with its offset.

    The date is rearranged, not checked: ``31-02-2024 10:00:00 +0000`` becomes
    ``2024-02-31T10:00:00+00:00``, which the loader rejects as unparseable. A missing value gives
    ``""``; a value in another layout is returned unchanged.

    >>> iso_performed_at("13-06-2024 10:30:00 +0530")
    '2024-06-13T10:30:00+05:30'
    """
    text = as_text(value)
    if text is None:
        return ""
    match = _PERFORMED_AT.match(text.strip())
    if match is None:
        return text
    time = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    offset = "Z" if match["z"] else (f"{match['oh']}:{match['om']}" if match["oh"] else "")
    return f"{match['y']}-{int(match['m']):02d}-{int(match['d']):02d}T{time.zfill(8)}{offset}"
