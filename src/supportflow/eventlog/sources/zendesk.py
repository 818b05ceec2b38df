"""Zendesk incremental ticket events → canonical ticket events.

Zendesk records every update of a ticket as an *audit* (a ticket event with ``event_type``
``"Audit"``): who made it (``updater_id``), when (``created_at``), through which channel
(``via``), and what it did, as ``child_events``. When an agent opens ticket 48211, takes it and
answers, one audit holds three children: ``Change`` of ``assignee_id``, ``Change`` of ``status``
to ``open`` and a public ``Comment``. We turn each child into one row of the canonical log, all
with the audit's ticket, time, updater and channel:

========================================  =====================================================
child event                               row
========================================  =====================================================
``Change`` of ``status``                  ``Status: pending`` (the new value as Zendesk writes it)
``Change`` of ``assignee_id``             ``Assigned`` (``Unassigned`` when cleared); the new
                                          assignee in the column ``assignee``
``Change`` of ``group_id``                ``Group changed``; ``team`` is the new group id
``Change`` of ``priority``                ``Priority: high`` (``Priority: none`` when cleared);
                                          ``priority`` is the new value
``Change`` of any other field             ``Changed <field>`` with the value in ``new_value``;
                                          ``tags``/``added_tags``/``removed_tags`` are one field
``Comment`` (``comment_events`` sideload) ``Public reply`` or ``Internal note`` by ``public``
                                          (``Comment`` when Zendesk does not say)
``Create`` children of one audit          one ``Ticket created`` row carrying the initial
                                          ``team``, ``priority``, ``assignee`` and ``status``
any other event type (``Notification``…)  a row named after the event type, so nothing is lost
========================================  =====================================================

Decisions, and why:

* **Creation is one event.** A new ticket's audit holds a ``Create`` child per field it was
  created with (status ``new``, priority, group, subject, requester…). Those are the ticket's
  starting state, not steps of its handling, so they make one ``Ticket created`` row. The
  comment of that audit is the customer's request itself, not a reply: it is folded into
  ``Ticket created`` so that first-response measures never see a zero-minute "reply".
* **Comments without the sideload.** Without ``include=comment_events`` an audit only flags a
  comment with ``comment_present``/``comment_public`` on its children; such an audit yields one
  ``Public reply``/``Internal note`` row (never one per flagged child).
* **Who and where.** ``resource`` is the audit's ``updater_id`` for every row, comments
  included (the comment's ``author_id`` is kept in its own column); ``channel`` is the audit's
  ``via`` label (or ``via.channel`` when ``via`` is an object).
* **Team and priority are not carried forward**: they are set only on the rows that change them
  (and on ``Ticket created``); later rows leave them empty. Carrying state forward is the job of
  the analysis that needs it.
* **Duplicates are kept out.** Time-based export pages overlap, so the same child event can be
  written twice; a child whose ``id`` was already read is skipped (children without an ``id``
  are never skipped). Nothing else is dropped: an audit without child events, or without a
  ticket id or a time, still yields a row with the missing value empty, which the loader rejects
  into its rejects file with a reason.
* **Time.** ``created_at`` as written (ISO 8601 with ``Z``); when it is missing, the Unix
  seconds of ``timestamp`` written as ISO 8601 UTC.

The file may hold one API page (``{"ticket_events": [...], "end_time": ..., ...}``, pretty-printed
or not), several pages one after another (one per line, or pretty-printed back to back), JSON
lines of single ticket events, or a JSON array of ticket events. Rows keep the file's order.
:func:`iter_json_values` reads all of these; the Freshdesk converter uses it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportflow.eventlog.sources.batches import batched
from supportflow.eventlog.sources.json_values import as_text, iter_json_values, records_in

Row = dict[str, str | None]

# Keys of a child event that describe the event itself rather than a ticket field it changed.
_CHILD_ENVELOPE = frozenset(
    {
        "id",
        "via",
        "via_reference_id",
        "event_type",
        "previous_value",
        "comment_present",
        "comment_public",
        "created_at",
        "audit_id",
    }
)
_TAG_KEYS = frozenset({"tags", "added_tags", "removed_tags"})


def read_zendesk_batches(path: Path) -> Iterator[Any]:
    """Yield record batches of canonical rows from the Zendesk ticket-events file at ``path``.

    Raises:
        UnsupportedFormatError: the JSON is malformed (with line and column), or a value in the
            file is neither an export page nor a ticket event (with its line).
        EncodingError: the file is not UTF-8.
    """
    seen_child_ids: set[str] = set()
    return batched(
        row
        for line, value in iter_json_values(path)
        for audit in _ticket_events(value, path=path, line=line)
        for row in _audit_rows(audit, seen_child_ids=seen_child_ids)
    )


def _ticket_events(value: Any, *, path: Path, line: int) -> Iterator[dict[str, Any]]:
    """The ticket events in one top-level JSON value: a page, a single event or an array."""
    return records_in(
        value,
        container="ticket_events",
        is_record=lambda record: "child_events" in record or "ticket_id" in record,
        path=path,
        line=line,
        expected="a Zendesk ticket event nor an incremental export page (expected 'ticket_events' or 'child_events')",
    )


def _audit_rows(audit: dict[str, Any], *, seen_child_ids: set[str]) -> Iterator[Row]:
    """The rows of one audit, skipping children already read from an overlapping page."""
    base: Row = {
        "case_id": as_text(audit.get("ticket_id")) or "",
        "activity": None,
        "timestamp": _audit_time(audit),
        "resource": as_text(audit.get("updater_id")),
        "team": None,
        "channel": _via_label(audit.get("via")),
        "priority": None,
        "audit_id": as_text(audit.get("id")),
    }
    children = [c for c in audit.get("child_events") or [] if isinstance(c, dict)]
    if not children:
        # An audit with nothing in it is odd enough to show: the loader rejects the empty
        # activity and lists the row.
        yield {**base, "activity": ""}
        return
    fresh: list[dict[str, Any]] = []
    for child in children:
        child_id = as_text(child.get("id"))
        if child_id is not None and child_id in seen_child_ids:
            continue
        if child_id is not None:
            seen_child_ids.add(child_id)
        fresh.append(child)
    creates = [c for c in fresh if _kind(c) == "Create"]
    for child in fresh:
        kind = _kind(child)
        if kind == "Create":
            if child is creates[0]:
                yield _created_row(base, creates)
        elif kind == "Comment":
            if not creates:
                yield _comment_row(
                    base, child, public=child.get("public", child.get("comment_public"))
                )
        elif kind in (None, "Change"):
            yield from _change_rows(base, child)
        else:
            yield {**base, "activity": kind, "event_id": as_text(child.get("id"))}
    flagged = [c for c in fresh if c.get("comment_present")]
    if flagged and not creates and not any(_kind(c) == "Comment" for c in fresh):
        yield _comment_row(base, flagged[0], public=flagged[0].get("comment_public"))


def _kind(child: dict[str, Any]) -> str | None:
    """The child's event type; the ``comment_events`` sideload writes it as ``type``."""
    kind = child.get("event_type")
    if kind is None and "event_type" not in child:
        kind = child.get("type")
    return None if kind is None else str(kind)


def _fields(child: dict[str, Any]) -> dict[str, Any]:
    """The ticket fields a ``Create``/``Change`` child sets, with their new values."""
    envelope = _CHILD_ENVELOPE if "event_type" in child else _CHILD_ENVELOPE | {"type"}
    return {key: value for key, value in child.items() if key not in envelope}


def _created_row(base: Row, creates: list[dict[str, Any]]) -> Row:
    initial: dict[str, Any] = {}
    for child in creates:
        initial.update(_fields(child))
    return {
        **base,
        "activity": "Ticket created",
        "team": as_text(initial.get("group_id")),
        "priority": as_text(initial.get("priority")),
        "assignee": as_text(initial.get("assignee_id")),
        "status": as_text(initial.get("status")),
        "event_id": as_text(creates[0].get("id")),
    }


def _comment_row(base: Row, child: dict[str, Any], *, public: Any) -> Row:
    activity, visibility = "Comment", None  # Zendesk did not say whether it is public
    if public is True:
        activity, visibility = "Public reply", "public"
    elif public is False:
        activity, visibility = "Internal note", "internal"
    return {
        **base,
        "activity": activity,
        "visibility": visibility,
        "author_id": as_text(child.get("author_id")),
        "event_id": as_text(child.get("id")),
    }


def _change_rows(base: Row, child: dict[str, Any]) -> Iterator[Row]:
    """One row per field a ``Change`` child sets (in practice, one)."""
    fields = _fields(child)
    common: Row = {
        **base,
        "event_id": as_text(child.get("id")),
        "previous_value": as_text(child.get("previous_value")),
    }
    tags = {key: value for key, value in fields.items() if key in _TAG_KEYS}
    tags_done = False
    for field, value in fields.items():
        if field in _TAG_KEYS:
            if not tags_done:
                yield {**common, "activity": "Changed tags", "new_value": as_text(tags)}
                tags_done = True
            continue
        yield _field_row(common, field, value)


def _field_row(common: Row, field: str, value: Any) -> Row:
    text = as_text(value)
    if field == "status":
        return {**common, "activity": f"Status: {text}"}
    if field == "assignee_id":
        return {**common, "activity": "Assigned" if text else "Unassigned", "assignee": text}
    if field == "group_id":
        return {**common, "activity": "Group changed", "team": text}
    if field == "priority":
        return {**common, "activity": f"Priority: {text or 'none'}", "priority": text}
    return {**common, "activity": f"Changed {field}", "new_value": text}


def _audit_time(audit: dict[str, Any]) -> str:
    """``created_at`` as written; else the Unix seconds of ``timestamp`` as ISO UTC; else ``""``.

    A value we cannot read is passed on unchanged, so the loader reports it."""
    created_at = audit.get("created_at")
    if isinstance(created_at, str) and created_at.strip():
        return created_at
    seconds = audit.get("timestamp")
    if isinstance(seconds, str) and re.fullmatch(r"\d+(\.\d+)?", seconds.strip()):
        seconds = float(seconds)
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return as_text(seconds) or ""


def _via_label(via: Any) -> str | None:
    """Ticket events write ``via`` as a label (``"Web form"``); audits as ``{"channel": ...}``."""
    if isinstance(via, dict):
        return as_text(via.get("channel"))
    return as_text(via)
