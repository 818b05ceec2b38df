"""From events to tickets: the state a ticket is in at every moment, and one row of facts each.

A KPI such as "first response time" is a fact about a ticket, not about an event: when was it
created, when did an agent first answer, when was it last resolved, how often did it bounce.
This module reads the canonical ``events`` once, classifies every activity through the
:class:`~supportflow.rules.status.StatusMap`, and materialises two tables in DuckDB:

- ``kpi_intervals``: one row per event, the state the ticket is in from that event until its next
  one (``end_us`` is NULL for a ticket's last event). Events that are not state changes (a note,
  a reply, an activity the map does not know) carry the previous state forward; before its first
  state event a ticket is ``created``. An event marked only ``reopened`` puts the ticket back
  ``in_progress``.
- ``kpi_tickets``: one row per ticket; the columns are listed in ``docs/kpi.md``.

Everything is set-based SQL: two window passes over the events and one aggregation.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportflow.eventlog.load import EventLog
from supportflow.eventlog.sql import identifier, literal
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules.status import STATE_CATEGORIES, StatusMap

DIMENSIONS = ("priority", "channel", "team", "region", "language", "agent", "tier", "category")
"""Ticket columns that KPIs can be broken down by (``hour`` is derived from ``created_us``)."""

# Attribute columns recognised by name (lower case) when the log carries them.
_ATTRIBUTE_NAMES = {
    "csat": ("csat", "csat_score", "satisfaction", "satisfaction_score", "satisfaction_rating"),
    "effort": ("effort", "effort_score", "ces", "customer_effort"),
    "tier": ("tier", "customer_tier", "plan", "segment"),
    "category": ("category", "ticket_type", "type", "issue_type"),
}
_DONE = "('resolved', 'closed')"


@dataclass(frozen=True)
class TicketTables:
    """What :func:`build_ticket_tables` found out about the log while building the tables."""

    tickets: int
    unmapped_activities: dict[str, int]
    """Activities the status map does not name, with their event counts."""
    has_first_response: bool
    """Whether the map names a first-response activity (else that KPI is not computed)."""
    assignment_source: str
    """``status map`` or ``resource column``: where "assigned" is read from."""
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


def _classify_activities(engine: DuckDBEngine, status: StatusMap) -> None:
    """``kpi_activity``: one row per distinct activity with its state and milestone flags."""
    listed = status.rows()
    values = ", ".join(f"({literal(key)}, {literal(category)})" for key, category in listed)
    engine.materialise("kpi_status_map", f"SELECT * FROM (VALUES {values}) t(akey, category)")
    key = "trim(activity)" if status.case_sensitive else "lower(trim(activity))"
    states = ", ".join(literal(s) for s in STATE_CATEGORIES)
    engine.materialise(
        "kpi_activity",
        f"""
        WITH acts AS (SELECT activity, count(*) AS events FROM events GROUP BY activity)
        SELECT a.activity, a.events,
               coalesce(any_value(m.category) FILTER (m.category IN ({states})),
                        CASE WHEN bool_or(m.category = 'reopened') THEN 'in_progress' END)
                 AS state,
               coalesce(bool_or(m.category = 'assigned'), false) AS is_assigned,
               coalesce(bool_or(m.category = 'first_response'), false) AS is_first_response,
               count(m.category) > 0 AS known
        FROM acts a LEFT JOIN kpi_status_map m ON m.akey = {key}
        GROUP BY a.activity, a.events
        """,
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
    _classify_activities(engine, status)
    attributes = _attribute_columns(engine)
    if clock_us is None:
        clock_us = int(engine.rows("kpi_clock", "SELECT max(ts) FROM events")[0][0])
    has_assigned = bool(status.assigned)
    _build_intervals(engine, log, attributes, has_assigned=has_assigned)
    _build_tickets(engine, log, clock_us=clock_us)
    unmapped = engine.rows(
        "kpi_unmapped",
        "SELECT activity, events FROM kpi_activity WHERE NOT known ORDER BY events DESC, activity",
    )
    tickets = int(engine.rows("kpi_ticket_count", "SELECT count(*) FROM kpi_tickets")[0][0])
    return TicketTables(
        tickets=tickets,
        unmapped_activities={str(a): int(n) for a, n in unmapped},
        has_first_response=bool(status.first_response),
        assignment_source="status map" if has_assigned else "resource column",
        attributes={role: column[len("attr:") :] for role, column in attributes.items()},
    )


def _optional(log: EventLog, field: str) -> str:
    return field if log.has(field) else f"CAST(NULL AS VARCHAR) AS {field}"


def _build_intervals(
    engine: DuckDBEngine, log: EventLog, attributes: dict[str, str], *, has_assigned: bool
) -> None:
    dims = ", ".join(
        _optional(log, f) for f in ("resource", "team", "priority", "channel", "region", "language")
    )
    extra = ", ".join(
        f"{identifier(attributes[role])} AS {role}"
        if role in attributes
        else f"CAST(NULL AS VARCHAR) AS {role}"
        for role in ("csat", "effort", "tier", "category")
    )
    # Without an "assigned" activity in the map, the resource column is read as the owner (as
    # ServiceNow's assigned_to): every event naming an agent is an assignment, and a change of
    # agent is a reassignment. With one, only those activities assign: a log whose resource is
    # "who did the step" does not count the closing clerk as a reassignment.
    assigned = "k.is_assigned" if has_assigned else "e.resource IS NOT NULL"
    if not log.has("resource") and not has_assigned:
        assigned = "false"
    order = "PARTITION BY e.case_id ORDER BY e.ts, e.seq"
    before = f"({order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    engine.materialise(
        "kpi_intervals",
        f"""
        WITH e AS (SELECT case_id, activity, ts, seq, {dims}, {extra} FROM events)
        SELECT e.case_id, e.ts AS start_us, lead(e.ts) OVER ({order}) AS end_us,
               coalesce(last_value(k.state IGNORE NULLS) OVER ({order}
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 'created') AS state,
               coalesce(last_value(k.state IGNORE NULLS) OVER {before}, 'created') AS prev_state,
               e.activity, e.resource, e.team, e.seq,
               k.state IS NOT NULL AND k.state IN {_DONE} AS enters_done_state,
               {assigned} AS is_assigned, k.is_first_response,
               last_value(CASE WHEN {assigned} THEN e.resource END IGNORE NULLS)
                 OVER {before} AS prev_assignee,
               last_value(e.resource IGNORE NULLS) OVER {before} AS prev_resource,
               last_value(e.team IGNORE NULLS) OVER {before} AS prev_team,
               e.priority, e.channel, e.region, e.language,
               TRY_CAST(e.csat AS DOUBLE) AS csat, TRY_CAST(e.effort AS DOUBLE) AS effort,
               CAST(e.tier AS VARCHAR) AS tier, CAST(e.category AS VARCHAR) AS category
        FROM e JOIN kpi_activity k ON k.activity = e.activity
        """,
    )


def _build_tickets(engine: DuckDBEngine, log: EventLog, *, clock_us: int) -> None:
    handler = "team" if log.has("team") else "resource"
    until_clock = f"coalesce(end_us, {int(clock_us)}) - start_us"
    engine.materialise(
        "kpi_tickets",
        f"""
        WITH flagged AS (
            SELECT *,
                   state IN {_DONE} AND prev_state NOT IN {_DONE} AS becomes_done,
                   prev_state IN {_DONE} AND state NOT IN {_DONE} AS is_reopen,
                   {handler} IS NOT NULL
                     AND {handler} IS DISTINCT FROM prev_{handler} AS handler_change
            FROM kpi_intervals
        ), bounce AS (
            -- the handler sequence with consecutive repeats collapsed: X, Y, X is ping-pong
            SELECT case_id, bool_or(same) AS pingpong FROM (
                SELECT case_id, {handler} = lag({handler}, 2) OVER (
                    PARTITION BY case_id ORDER BY start_us, seq) AS same
                FROM flagged WHERE handler_change) GROUP BY case_id
        ), agg AS (
            SELECT case_id,
                   min(start_us) AS created_us,
                   min(start_us) FILTER (is_assigned) AS first_assigned_us,
                   min(start_us) FILTER (is_first_response) AS first_response_us,
                   min(start_us) FILTER (becomes_done) AS first_resolved_us,
                   max(start_us) FILTER (becomes_done) AS last_done_us,
                   max(start_us) FILTER (state = 'closed' AND prev_state <> 'closed')
                     AS last_closed_us,
                   max(start_us) AS last_us,
                   arg_max(state, (start_us, seq)) AS final_state,
                   count(*) FILTER (is_reopen) AS reopens,
                   count(*) FILTER (is_assigned AND resource IS NOT NULL
                                    AND prev_assignee IS NOT NULL
                                    AND resource <> prev_assignee) AS reassignments,
                   count(*) FILTER (team IS NOT NULL AND prev_team IS NOT NULL
                                    AND team <> prev_team) AS team_transfers,
                   coalesce(sum({until_clock}) FILTER (state = 'in_progress'), 0) / 1e6
                     AS handling_s,
                   coalesce(sum({until_clock}) FILTER (state = 'waiting_on_customer'), 0) / 1e6
                     AS waiting_on_customer_s,
                   coalesce(sum({until_clock}) FILTER (state = 'waiting_on_third_party'), 0)
                     / 1e6 AS waiting_on_third_party_s,
                   arg_max(priority, (start_us, seq)) FILTER (priority IS NOT NULL) AS priority,
                   arg_min(channel, (start_us, seq)) FILTER (channel IS NOT NULL) AS channel,
                   arg_max(team, (start_us, seq)) FILTER (team IS NOT NULL) AS team,
                   arg_min(region, (start_us, seq)) FILTER (region IS NOT NULL) AS region,
                   arg_min(language, (start_us, seq)) FILTER (language IS NOT NULL) AS language,
                   arg_max(resource, (start_us, seq)) FILTER (resource IS NOT NULL) AS agent,
                   arg_min(tier, (start_us, seq)) FILTER (tier IS NOT NULL) AS tier,
                   arg_min(category, (start_us, seq)) FILTER (category IS NOT NULL) AS category,
                   arg_max(csat, (start_us, seq)) FILTER (csat IS NOT NULL) AS csat,
                   arg_max(effort, (start_us, seq)) FILTER (effort IS NOT NULL) AS effort
            FROM flagged GROUP BY case_id
        )
        SELECT a.case_id, created_us, first_assigned_us, first_response_us, first_resolved_us,
               CASE WHEN final_state IN {_DONE} THEN last_done_us END AS resolved_us,
               CASE WHEN final_state = 'closed' THEN last_closed_us END AS closed_us,
               last_us, final_state NOT IN {_DONE} AS is_open,
               CAST(reopens AS INTEGER) AS reopens,
               CAST(reassignments AS INTEGER) AS reassignments,
               CAST(team_transfers AS INTEGER) AS team_transfers,
               coalesce(b.pingpong, false) AS pingpong,
               handling_s, waiting_on_customer_s, waiting_on_third_party_s,
               first_resolved_us IS NOT NULL AND reopens = 0 AND reassignments = 0
                 AND team_transfers = 0 AND waiting_on_customer_s = 0 AS fcr,
               priority, channel, team, region, language, agent, tier, category, csat, effort
        FROM agg a LEFT JOIN bounce b USING (case_id)
        """,
    )
