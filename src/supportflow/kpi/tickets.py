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


def _create_types(engine: DuckDBEngine, log: EventLog) -> None:
    """ENUM types for states, activities, agents and teams: the window pass then sorts and
    compares one- to four-byte codes instead of strings, which halves its cost."""
    for table in ("kpi_ev", "kpi_activity"):
        engine.execute(f"drop_{table}", f"DROP TABLE IF EXISTS {table}")
    states = ", ".join(literal(s) for s in STATE_CATEGORIES)
    columns = {"kpi_state_t": None, "kpi_activity_t": "activity"}
    columns |= {"kpi_resource_t": "resource", "kpi_team_t": "team"}
    for name, column in columns.items():
        engine.execute(f"drop_{name}", f"DROP TYPE IF EXISTS {name}")
        if column is None:
            values = states
        elif column == "activity" or log.has(column):
            values = f"SELECT DISTINCT {column} FROM events WHERE {column} IS NOT NULL"
        else:
            values = "'(none)'"
        engine.execute(f"create_{name}", f"CREATE TYPE {name} AS ENUM ({values})")


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
        SELECT a.activity, CAST(a.activity AS kpi_activity_t) AS act, a.events,
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


def build_ticket_tables(
    engine: DuckDBEngine, log: EventLog, status: StatusMap, *, clock_us: int | None = None
) -> TicketTables:
    """Materialise ``kpi_intervals`` and ``kpi_tickets`` for ``log`` read through ``status``.

    ``clock_us`` is "now" for tickets still open (their last state lasts until then); it
    defaults to the log's last timestamp.

    Raises:
        MiningError: a query failed (the message names it).
    """
    _create_types(engine, log)
    _classify_activities(engine, status)
    attributes = _attribute_columns(engine)
    if clock_us is None:
        clock_us = int(engine.rows("kpi_clock", "SELECT max(ts) FROM events")[0][0])
    has_assigned = bool(status.assigned)
    _build_intervals(engine, log, attributes, has_assigned=has_assigned)
    from_lifecycle = _build_active_time(engine, log)
    _build_tickets(engine, log, clock_us=clock_us, from_lifecycle=from_lifecycle)
    unmapped = engine.rows(
        "kpi_unmapped",
        "SELECT activity, events FROM kpi_activity WHERE NOT known ORDER BY events DESC, activity",
    )
    tickets = int(engine.rows("kpi_ticket_count", "SELECT count(*) FROM kpi_tickets")[0][0])
    return TicketTables(
        tickets=tickets,
        unmapped_activities={str(a): int(n) for a, n in unmapped},
        has_first_response=bool(status.first_response),
        handling_source="lifecycle" if from_lifecycle else "states",
        assignment_source="status map" if has_assigned else "resource column",
        attributes={role: column[len("attr:") :] for role, column in attributes.items()},
    )


def _build_intervals(
    engine: DuckDBEngine, log: EventLog, attributes: dict[str, str], *, has_assigned: bool
) -> None:
    """``kpi_ev`` (every event with what its neighbours say) and ``kpi_intervals`` from it.

    One window pass over the events computes everything that needs order: the previous state,
    the next state change, the previous team and agent. Window passes cost five times an
    aggregation on 5M events, so there is exactly one.
    """
    # Without an "assigned" activity in the map, the resource column is read as the owner (as
    # ServiceNow's assigned_to): every event naming an agent is an assignment, and a change of
    # agent is a reassignment. With one, only those activities assign: a log whose resource is
    # "who did the step" does not count the closing clerk as a reassignment.
    assigned = "k.is_assigned" if has_assigned else "e.resource IS NOT NULL"
    if not log.has("resource") and not has_assigned:
        assigned = "false"
    prev_resource = (
        "lag(e.resource IGNORE NULLS) OVER w"
        if has_assigned and not log.has("team")
        else "CAST(NULL AS kpi_resource_t)"
    )
    resource = "CAST(resource AS kpi_resource_t)" if log.has("resource") else "NULL"
    team = "CAST(team AS kpi_team_t)" if log.has("team") else "NULL"
    engine.materialise(
        "kpi_ev",
        f"""
        WITH e AS (SELECT case_id, activity, ts, seq,
                          CAST({resource} AS kpi_resource_t) AS resource,
                          CAST({team} AS kpi_team_t) AS team FROM events)
        SELECT e.case_id, e.ts, e.seq, k.act, k.state AS state_raw,
               {assigned} AS is_assigned, k.is_first_response, e.resource, e.team,
               row_number() OVER w AS n,
               lead(k.act) OVER w AS next_act, lead(e.ts) OVER w AS next_ts,
               coalesce(lag(k.state IGNORE NULLS) OVER w, CAST('created' AS kpi_state_t)) AS prev_state,
               lead(CASE WHEN k.state IS NOT NULL THEN e.ts END IGNORE NULLS) OVER w
                 AS next_state_us,
               lag(e.team IGNORE NULLS) OVER w AS prev_team,
               lag(CASE WHEN {assigned} THEN e.resource END IGNORE NULLS) OVER w
                 AS prev_assignee,
               lag(CASE WHEN {assigned} AND e.resource IS NOT NULL
                        THEN coalesce(enum_code(e.team), -1) END IGNORE NULLS) OVER w
                 AS prev_assignee_team,
               {prev_resource} AS prev_resource
        FROM e JOIN kpi_activity k ON k.activity = e.activity
        WINDOW w AS (PARTITION BY e.case_id ORDER BY e.ts, e.seq)
        """,
    )
    _build_dimensions(engine, log, attributes)
    # A state lasts from its event to the next state change; a ticket is "created" until its
    # first state event. Events that change nothing are not segments. The text columns stay
    # ENUMs (they compare with text literals and read back as text) to save the conversion.
    engine.materialise(
        "kpi_intervals",
        """
        SELECT case_id, ts AS start_us, next_state_us AS end_us,
               coalesce(state_raw, CAST('created' AS kpi_state_t)) AS state,
               CASE WHEN n = 1 THEN NULL ELSE prev_state END AS prev_state,
               act AS activity, resource, team, seq, n
        FROM kpi_ev WHERE state_raw IS NOT NULL OR n = 1
        """,
    )


def _build_active_time(engine: DuckDBEngine, log: EventLog) -> bool:
    """``kpi_active``: per ticket, the active work that start/complete pairs measure.

    The n-th ``start`` of an activity in a ticket pairs with its n-th ``complete`` (first in,
    first out, as activity instances are usually logged); a start without its completion adds
    nothing. Returns whether the log has start events at all (else handling time is read from
    the states).
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
                   row_number() OVER (PARTITION BY case_id, activity, lower(lifecycle)
                                      ORDER BY ts, rowid) AS k
            FROM staged
            WHERE case_id IS NOT NULL AND activity IS NOT NULL AND ts IS NOT NULL
              AND lower(lifecycle) IN ('start', 'complete'))
        SELECT s.case_id, sum(greatest(c.ts - s.ts, 0)) / 1e6 AS active_s
        FROM lc s JOIN lc c
          ON s.case_id = c.case_id AND s.activity = c.activity AND s.k = c.k
        WHERE s.phase = 'start' AND c.phase = 'complete'
        GROUP BY s.case_id
        """,
    )
    return True


def _build_tickets(
    engine: DuckDBEngine, log: EventLog, *, clock_us: int, from_lifecycle: bool
) -> None:
    handler = "team" if log.has("team") else "resource"
    # without an "assigned" activity, every agent-naming event assigns: prev_assignee is then
    # exactly the previous agent
    previous_handler = (
        "prev_team" if handler == "team" else "coalesce(prev_resource, prev_assignee)"
    )
    segment = "(state_raw IS NOT NULL OR n = 1)"
    state = "coalesce(state_raw, CAST('created' AS kpi_state_t))"
    until_clock = f"coalesce(next_state_us, {int(clock_us)}) - ts"
    team_change = "(team IS NOT NULL AND prev_team IS NOT NULL AND team <> prev_team)"
    agent_change = (
        "(is_assigned AND resource IS NOT NULL AND prev_assignee IS NOT NULL "
        "AND resource <> prev_assignee)"
    )

    def time_in(name: str) -> str:
        return f"coalesce(sum(dur) FILTER (seg_state = '{name}'), 0) / 1e6"

    # A handover is one event that moves the ticket to another team, or to another agent of the
    # same team; the agent a new team picks completes that team's handover (ServiceNow's
    # reassignment_count counts the same way, one per update).
    handover = (
        f"({team_change} OR ({agent_change} "
        "AND coalesce(enum_code(team), -1) = prev_assignee_team))"
    )
    engine.materialise(
        "kpi_tickets",
        f"""
        WITH flagged AS (
            SELECT *,
                   seg_state IN {_DONE} AND prev_state NOT IN {_DONE} AS becomes_done,
                   n > 1 AND prev_state IN {_DONE} AND seg_state NOT IN {_DONE} AS is_reopen
            FROM (SELECT *, CASE WHEN {segment} THEN {state} END AS seg_state,
                         {until_clock} AS dur FROM kpi_ev)
        ), bounce AS (
            -- the handler sequence with consecutive repeats collapsed: X, Y, X is ping-pong
            SELECT case_id, bool_or(same) AS pingpong FROM (
                SELECT case_id, {handler} = lag({handler}, 2) OVER (
                    PARTITION BY case_id ORDER BY n) AS same
                FROM kpi_ev
                WHERE {handler} IS NOT NULL AND {handler} IS DISTINCT FROM {previous_handler})
            GROUP BY case_id
        ), agg AS (
            SELECT case_id,
                   min(ts) AS created_us,
                   min(ts) FILTER (is_assigned) AS first_assigned_us,
                   min(ts) FILTER (is_first_response) AS first_response_us,
                   min(ts) FILTER (becomes_done) AS first_resolved_us,
                   max(ts) FILTER (becomes_done) AS last_done_us,
                   max(ts) FILTER (seg_state = 'closed' AND prev_state <> 'closed')
                     AS last_closed_us,
                   max(ts) AS last_us,
                   arg_max(seg_state, n) FILTER (seg_state IS NOT NULL) AS final_state,
                   count(*) FILTER (is_reopen) AS reopens,
                   count(*) FILTER {agent_change} AS reassignments,
                   count(*) FILTER {team_change} AS team_transfers,
                   count(*) FILTER {handover} AS handovers,
                   {time_in("in_progress")} AS handling_s,
                   {time_in("waiting_on_customer")} AS waiting_on_customer_s,
                   {time_in("waiting_on_third_party")} AS waiting_on_third_party_s,
                   CAST(arg_max(team, n) FILTER (team IS NOT NULL) AS VARCHAR) AS team,
                   CAST(arg_max(resource, n) FILTER (resource IS NOT NULL) AS VARCHAR) AS agent
            FROM flagged GROUP BY case_id
        )
        SELECT a.case_id, created_us, first_assigned_us, first_response_us, first_resolved_us,
               CASE WHEN final_state IN {_DONE} THEN last_done_us END AS resolved_us,
               CASE WHEN final_state = 'closed' THEN last_closed_us END AS closed_us,
               last_us, final_state NOT IN {_DONE} AS is_open,
               CAST(reopens AS INTEGER) AS reopens,
               CAST(reassignments AS INTEGER) AS reassignments,
               CAST(team_transfers AS INTEGER) AS team_transfers,
               CAST(handovers AS INTEGER) AS handovers,
               coalesce(b.pingpong, false) AS pingpong,
               {"coalesce(v.active_s, 0.0)" if from_lifecycle else "handling_s"} AS handling_s,
               waiting_on_customer_s, waiting_on_third_party_s,
               first_resolved_us IS NOT NULL AND reopens = 0 AND handovers = 0
                 AND waiting_on_customer_s = 0 AS fcr,
               d.priority, d.channel, a.team, d.region, d.language, a.agent, d.tier,
               d.category, d.csat, d.effort
        FROM agg a LEFT JOIN bounce b USING (case_id) LEFT JOIN kpi_dims d USING (case_id)
        {"LEFT JOIN kpi_active v USING (case_id)" if from_lifecycle else ""}
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
