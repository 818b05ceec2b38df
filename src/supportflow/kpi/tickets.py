"""From events to tickets: the state a ticket is in at every moment, and one row of facts each.

A KPI such as "first response time" is a fact about a ticket, not about an event: when was it
created, when did an agent first answer, when was it last resolved, how often did it bounce.
This module reads the canonical ``events`` once, classifies every activity through the
:class:`~supportflow.rules.status.StatusMap`, and materialises two tables in DuckDB:

- ``kpi_intervals``: one row per state segment: the state a ticket enters at a state event and
  keeps until its next state event (``end_us`` is NULL for the last: it lasts until the clock).
  Events that are not state changes (a note, a reply, an activity the map does not know) carry
  the state forward; before its first state event a ticket is ``created``. An event marked only
  ``reopened`` puts the ticket back ``in_progress``.
- ``kpi_tickets``: one row per ticket; the columns are listed in ``docs/kpi.md``.

Everything is set-based SQL: one window pass over the events and one aggregation.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportflow.eventlog.load import EventLog
from supportflow.eventlog.sql import identifier, literal
from supportflow.kpi.ticket_lists import (
    STATE_CODES,
    build_ticket_lists,
    segments_sql,
    ticket_facts_sql,
)
from supportflow.mining.engine import DuckDBEngine
from supportflow.mining.primitives import build_case_lists, case_lists_exist
from supportflow.rules.status import STATE_CATEGORIES, WHITESPACE, StatusMap

DIMENSIONS = ("priority", "channel", "team", "region", "language", "agent", "tier", "category")
"""Ticket columns that KPIs can be broken down by (``hour`` is derived from ``created_us``)."""

# Attribute columns recognised by name (lower case) when the log carries them.
_ATTRIBUTE_NAMES = {
    "csat": (
        "csat",
        "csat_score",
        "satisfaction",
        "satisfaction_score",
        "satisfaction_rating",
        "rating",
    ),
    "effort": ("effort", "effort_score", "ces", "customer_effort"),
    "tier": ("tier", "customer_tier", "plan", "segment"),
    "category": ("category", "ticket_type", "type", "issue_type"),
}
_DONE = "('resolved', 'closed')"
FIRST_ANSWER_SQL = "least(first_response_us, first_resolved_us)"
"""When a ticket got its first answer: its first reply, or its first resolution if that came
first (a ticket solved on the spot was answered then). The first-response KPI, its SLA clock,
its drift series and its alert stream all read this one definition."""


@dataclass(frozen=True)
class TicketTables:
    """What :func:`build_ticket_tables` found out about the log while building the tables."""

    tickets: int
    unmapped_activities: dict[str, int]
    """Activities the status map does not name, with their event counts."""
    assignment_source: str
    """``status map`` or ``resource column``: where "assigned" is read from."""
    handling_source: str
    """``lifecycle`` (start → complete of each activity) or ``states`` (time in progress)."""
    attributes: dict[str, str]
    """Which source column feeds ``csat``, ``effort``, ``tier`` and ``category``."""


def _attribute_columns(engine: DuckDBEngine) -> dict[str, str]:
    columns = [row[0] for row in engine.rows("kpi_describe", "DESCRIBE SELECT * FROM events")]
    by_name = {c[len("attr:") :].strip().lower(): c for c in columns if c.startswith("attr:")}
    found: dict[str, str] = {}
    for role, names in _ATTRIBUTE_NAMES.items():
        for name in names:
            if name in by_name:
                found[role] = by_name[name]
                break
    return found


def _create_state_type(engine: DuckDBEngine) -> None:
    """The ENUM of states: segments carry one byte instead of a word, and compare with text."""
    for table in ("kpi_intervals", "kpi_activity"):
        engine.execute(f"drop_{table}", f"DROP TABLE IF EXISTS {table}")
    engine.execute("drop_kpi_state_t", "DROP TYPE IF EXISTS kpi_state_t")
    states = ", ".join(literal(s) for s in STATE_CATEGORIES)
    engine.execute("create_kpi_state_t", f"CREATE TYPE kpi_state_t AS ENUM ({states})")


def _classify_activities(engine: DuckDBEngine, status: StatusMap) -> None:
    """``kpi_activity``: one row per distinct activity with its state and milestone flags."""
    listed = status.rows()
    values = ", ".join(f"({literal(key)}, {literal(category)})" for key, category in listed)
    engine.materialise("kpi_status_map", f"SELECT * FROM (VALUES {values}) t(akey, category)")
    # the same whitespace as StatusMap.key strips, so the SQL key equals the Python key
    trimmed = f"trim(activity, {literal(WHITESPACE)})"
    key = trimmed if status.case_sensitive else f"lower({trimmed})"
    states = ", ".join(literal(s) for s in STATE_CATEGORIES)
    engine.materialise(
        "kpi_activity",
        f"""
        WITH acts AS (SELECT activity, events FROM activity_dict)
        SELECT a.activity, enum_code(CAST(a.activity AS activity_t)) AS code, a.events,
               CAST(coalesce(any_value(m.category) FILTER (m.category IN ({states})),
                        CASE WHEN bool_or(m.category = 'reopened') THEN 'in_progress' END)
                 AS kpi_state_t) AS state,
               coalesce(bool_or(m.category = 'assigned'), false) AS is_assigned,
               coalesce(bool_or(m.category = 'first_response'), false) AS is_first_response,
               count(m.category) > 0 AS known
        FROM acts a LEFT JOIN kpi_status_map m ON m.akey = {key}
        GROUP BY a.activity, a.events
        """,
    )


def ensure_case_lists(engine: DuckDBEngine, log: EventLog) -> None:
    """Build the mining core's ``case_lists`` (and its activity counts) unless a diagnosis on
    this connection already did."""
    if not case_lists_exist(engine):
        build_case_lists(engine, has_resource=log.has("resource"), has_team=log.has("team"))


def activity_counts(engine: DuckDBEngine) -> dict[str, int]:
    """Events per activity, from the dictionary the case lists were built with."""
    rows = engine.rows("kpi_activity_counts", "SELECT activity, events FROM activity_dict")
    return {str(activity): int(events) for activity, events in rows}


def last_event_us(engine: DuckDBEngine) -> int:
    """The log's last timestamp: "now" for the tickets still open at its end."""
    return int(
        engine.rows("kpi_clock", "SELECT max(last_ts) FROM dictionary_rows WHERE by_handler = 0")[
            0
        ][0]
    )


def build_ticket_tables(
    engine: DuckDBEngine, log: EventLog, status: StatusMap, *, clock_us: int | None = None
) -> TicketTables:
    """Materialise ``kpi_intervals`` and ``kpi_tickets`` for ``log`` read through ``status``.

    ``clock_us`` is "now" for tickets still open (their last state lasts until then); it
    defaults to the log's last timestamp.

    Raises:
        MiningError: a query failed (the message names it).
    """
    _create_state_type(engine)
    has_resource, has_team = log.has("resource"), log.has("team")
    ensure_case_lists(engine, log)
    _classify_activities(engine, status)
    attributes = _attribute_columns(engine)
    if clock_us is None:
        clock_us = last_event_us(engine)
    has_assigned = bool(status.assigned)
    codes = engine.rows(
        "kpi_activity_codes",
        "SELECT code, state, is_assigned, is_first_response FROM kpi_activity ORDER BY code",
    )
    size = max(int(c[0]) for c in codes) + 1
    states, assigned, first_response = [0] * size, [0] * size, [0] * size
    for code, state, is_assigned, is_first_response in codes:
        states[int(code)] = STATE_CODES[state] if state is not None else 0
        assigned[int(code)] = int(bool(is_assigned))
        first_response[int(code)] = int(bool(is_first_response))
    build_ticket_lists(
        engine,
        states=states,
        assigned=assigned if has_assigned else None,
        first_response=first_response,
        has_resource=has_resource,
        has_team=has_team,
        handler="teams" if has_team else "res",
    )
    _build_segments(engine, has_resource=has_resource)
    _build_dimensions(engine, log, attributes)
    from_lifecycle = _build_active_time(engine, log)
    _build_tickets(
        engine,
        clock_us=clock_us,
        from_lifecycle=from_lifecycle,
        has_resource=has_resource,
        has_team=has_team,
    )
    unmapped = engine.rows(
        "kpi_unmapped",
        "SELECT activity, events FROM kpi_activity WHERE NOT known ORDER BY events DESC, activity",
    )
    tickets = int(engine.rows("kpi_ticket_count", "SELECT count(*) FROM kpi_tickets")[0][0])
    return TicketTables(
        tickets=tickets,
        unmapped_activities={str(a): int(n) for a, n in unmapped},
        handling_source="lifecycle" if from_lifecycle else "states",
        assignment_source=(
            "status map" if has_assigned else "resource column" if has_resource else "none"
        ),
        attributes={role: column[len("attr:") :] for role, column in attributes.items()},
    )


def _names(kind: str, code: str, *, present: bool) -> str:
    """SQL naming handler ``code`` (0 = none) through the mining ENUM of ``kind``."""
    if not present:
        return "CAST(NULL AS VARCHAR)"
    return f"enum_range(NULL::{kind}_t)[nullif({code}, 0)]"


def _build_segments(engine: DuckDBEngine, *, has_resource: bool) -> None:
    """``kpi_intervals``: one row per state segment. A state lasts from its event to the next
    state change; a ticket is "created" until its first state event. Text columns are ENUMs
    (they compare with text literals and read back as text)."""
    engine.materialise(
        "kpi_intervals",
        f"""
        SELECT case_id, start_us, end_us, state, prev_state,
               {_names("resource", "res_code", present=has_resource)} AS resource, n
        FROM ({segments_sql()})
        """,
    )


def _build_active_time(engine: DuckDBEngine, log: EventLog) -> bool:
    """``kpi_active``: per ticket, the active work that start/complete pairs measure.

    A ``complete`` pairs with the event just before it of the same activity in the ticket when
    that event is a ``start``; a start without its completion, or a completion logged alone,
    adds nothing. Waiting activities (on the customer, on a third party) are not work. Returns
    whether the log has start events at all (else handling time is read from the states).
    """
    if not log.has("lifecycle"):
        return False
    starts = engine.rows(
        "kpi_lifecycle_starts", "SELECT count(*) FROM staged WHERE lower(lifecycle) = 'start'"
    )[0][0]
    if not starts:
        return False
    engine.materialise(
        "kpi_active",
        """
        WITH lc AS (
            SELECT case_id, activity, ts, lower(lifecycle) AS phase,
                   lag(lower(lifecycle)) OVER w AS prev_phase, lag(ts) OVER w AS prev_ts
            FROM staged
            WHERE case_id IS NOT NULL AND activity IS NOT NULL AND ts IS NOT NULL
              AND lower(lifecycle) IN ('start', 'complete')
            WINDOW w AS (PARTITION BY case_id, activity ORDER BY ts, rowid))
        SELECT lc.case_id, sum(lc.ts - lc.prev_ts) / 1e6 AS active_s
        FROM lc JOIN kpi_activity k ON k.activity = lc.activity
        WHERE lc.phase = 'complete' AND lc.prev_phase = 'start'
          AND (k.state IS NULL
               OR k.state NOT IN ('waiting_on_customer', 'waiting_on_third_party'))
        GROUP BY lc.case_id
        """,
    )
    return True


def _build_tickets(
    engine: DuckDBEngine,
    *,
    clock_us: int,
    from_lifecycle: bool,
    has_resource: bool,
    has_team: bool,
) -> None:
    handling = "coalesce(v.active_s, 0.0)" if from_lifecycle else "f.handling_s"
    active = "LEFT JOIN kpi_active v USING (case_id)" if from_lifecycle else ""
    engine.materialise(
        "kpi_tickets",
        f"""
        SELECT f.case_id, created_us, first_assigned_us, first_response_us, first_resolved_us,
               CASE WHEN final_state >= 5 THEN last_done_us END AS resolved_us,
               CASE WHEN final_state = 6 THEN last_closed_us END AS closed_us,
               last_us, final_state < 5 AS is_open,
               CAST(reopens AS INTEGER) AS reopens,
               CAST(reassignments AS INTEGER) AS reassignments,
               CAST(team_transfers AS INTEGER) AS team_transfers,
               CAST(handovers AS INTEGER) AS handovers,
               pingpong, {handling} AS handling_s,
               waiting_on_customer_s, waiting_on_third_party_s,
               first_resolved_us IS NOT NULL AND reopens = 0 AND handovers = 0
                 AND waiting_on_customer_s = 0 AS fcr,
               d.priority, d.channel,
               CAST({_names("team", "team_code", present=has_team)} AS VARCHAR) AS team,
               d.region, d.language,
               CAST({_names("resource", "agent_code", present=has_resource)} AS VARCHAR) AS agent,
               d.tier, d.category, d.csat, d.effort
        FROM ({ticket_facts_sql(clock_us=clock_us)}) f
        LEFT JOIN kpi_dims d USING (case_id) {active}
        """,
    )


_FIRST = ("channel", "region", "language", "tier", "category")
_LAST = ("priority", "csat", "effort")


def _build_dimensions(engine: DuckDBEngine, log: EventLog, attributes: dict[str, str]) -> None:
    """``kpi_dims``: per ticket, its first channel, region, language, tier and category and its
    last priority and scores (help desks apply SLAs by the current priority)."""
    columns = {f: f for f in ("priority", "channel", "region", "language") if log.has(f)}
    for role in ("csat", "effort"):
        if role in attributes:
            columns[role] = f"TRY_CAST({identifier(attributes[role])} AS DOUBLE)"
    for role in ("tier", "category"):
        if role in attributes:
            columns[role] = f"CAST({identifier(attributes[role])} AS VARCHAR)"
    if not columns:
        # nothing to read: an empty table keeps the join (and the columns) in place
        nulls = ", ".join(
            f"CAST(NULL AS {'DOUBLE' if f in ('csat', 'effort') else 'VARCHAR'}) AS {f}"
            for f in (*_FIRST, *_LAST)
        )
        engine.materialise("kpi_dims", f"SELECT CAST(NULL AS VARCHAR) AS case_id, {nulls} LIMIT 0")
        return
    picks = []
    for field in (*_FIRST, *_LAST):
        if field not in columns:
            kind = "DOUBLE" if field in ("csat", "effort") else "VARCHAR"
            picks.append(f"CAST(NULL AS {kind}) AS {field}")
            continue
        pick = "arg_min" if field in _FIRST else "arg_max"
        picks.append(f"{pick}(v_{field}, (ts, seq)) FILTER (v_{field} IS NOT NULL) AS {field}")
    inner = ", ".join(f"{expr} AS v_{field}" for field, expr in columns.items())
    engine.materialise(
        "kpi_dims",
        f"SELECT case_id, {', '.join(picks)} FROM "
        f"(SELECT case_id, ts, seq, {inner} FROM events) GROUP BY case_id",
    )
