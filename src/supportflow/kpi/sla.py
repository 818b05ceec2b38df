"""SLA clocks: for every ticket, how much business time its promises used and whether they held.

Two clocks run per ticket, each against the target its policy assigns (see
:mod:`supportflow.rules.sla`):

- **first response** from creation until the first agent response (or the first resolution, if
  the ticket was solved without a separate reply: the solution answers the customer). Pause
  states stop it only when the policy says ``pause_first_response: true``.
- **resolution** from creation until the last resolution. It does not run while the ticket waits
  in a pause state (say, on the customer), nor while it sat resolved or closed before a reopen.
  A ticket still open runs until the clock (``clock_us``, "now").

Time is business time of the ticket's calendar (:mod:`supportflow.kpi.calendar`). A clock is
*breached* once its running business time exceeds the target; ``breach_us`` is the instant it
reached the target, found in the running stretch in which the running total crosses the target
by inverting the calendar there. A clock is *met* when it stopped within the target, and neither
while it still runs below the target.

The result is the table ``kpi_sla`` (one row per ticket and metric with a target, columns in
``docs/sla.md``) and an :class:`SlaSummary` of attainment overall and per priority, team and
channel. Everything is set-based SQL over ``kpi_tickets`` and ``kpi_intervals``: only
the tickets' pause stretches are joined to the intervals, every other figure comes from the
business time at a clock's start and end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from supportflow.eventlog.sql import literal
from supportflow.kpi.calendar import (
    CalendarTables,
    build_calendar_tables,
    business_instant_sql,
    business_time_sql,
)
from supportflow.kpi.tickets import FIRST_ANSWER_SQL
from supportflow.mining.engine import US, DuckDBEngine
from supportflow.rules.sla import ALWAYS_OPEN, ANY, SlaPolicy, SlaTarget

METRICS = ("first_response", "resolution")
"""The SLA clocks, in the order they are reported."""
_DONE_STATES = ("resolved", "closed")
# A clock ``c`` with its paused business time ``p`` is late: it ran longer than its target.
_LATE = "c.b_end - c.b_start - coalesce(p.paused_us, 0) > c.target_us"


@dataclass(frozen=True)
class Attainment:
    """How a group of tickets fared against one SLA clock."""

    tickets: int
    """Tickets with a target for this clock."""
    with_outcome: int
    """Tickets whose outcome is known: ``met + breached``."""
    met: int
    """Stopped within the target."""
    breached: int
    """Ran past the target (stopped late, or still running and already late)."""
    running: int
    """Still running and not yet late: no outcome."""
    share_met: float | None
    """``met / with_outcome``; ``None`` when no outcome is known yet."""

    @classmethod
    def empty(cls) -> Attainment:
        """No tickets at all."""
        return cls(tickets=0, with_outcome=0, met=0, breached=0, running=0, share_met=None)


@dataclass(frozen=True)
class MetricAttainment:
    """Attainment of one clock overall and per priority, team and channel (largest first;
    ``None`` when the log has no such column, ``"(none)"`` for tickets without a value)."""

    overall: Attainment
    no_target: int
    """Tickets that no target of the policy covers for this clock (they have no row)."""
    by_priority: dict[str, Attainment] | None
    by_team: dict[str, Attainment] | None
    by_channel: dict[str, Attainment] | None


@dataclass(frozen=True)
class SlaSummary:
    """SLA attainment of the first-response and resolution clocks at ``clock``."""

    clock: str
    """"Now" of the computation, ISO 8601 UTC."""
    pause_states: list[str]
    first_response: MetricAttainment
    resolution: MetricAttainment

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready document (snake_case keys)."""
        return asdict(self)


def _matches_sql(target: SlaTarget) -> str:
    """SQL condition on a ticket's lower-cased ``priority_key``, ``channel_key`` and
    ``tier_key``: the ticket falls under ``target`` (case-insensitive)."""
    conditions = [
        f"{column}_key = {literal(value.lower())}"
        for column, value in (
            ("priority", target.priority),
            ("channel", target.channel),
            ("tier", target.tier),
        )
        if value is not None and value != ANY
    ]
    return " AND ".join(conditions) or "TRUE"


def _target_case_sql(policy: SlaPolicy, metric: str, ids: dict[str, int]) -> tuple[str, str]:
    """SQL ``(target seconds, target calendar id)`` of the most specific target naming
    ``metric`` (NULL when none matches; the calendar id is NULL when the target names none)."""
    ranked = sorted(
        (t for t in policy.targets if getattr(t, metric) is not None),
        key=lambda t: -t.specificity,  # sorted() is stable: ties keep file order
    )
    if not ranked:
        return "CAST(NULL AS DOUBLE)", "CAST(NULL AS INTEGER)"
    seconds = " ".join(f"WHEN {_matches_sql(t)} THEN {float(getattr(t, metric))!r}" for t in ranked)
    calendar = " ".join(
        f"WHEN {_matches_sql(t)} THEN {ids[t.calendar] if t.calendar is not None else 'NULL'}"
        for t in ranked
    )
    return f"CAST(CASE {seconds} END AS DOUBLE)", f"CAST(CASE {calendar} END AS INTEGER)"


def _ticket_calendar_sql(policy: SlaPolicy, ids: dict[str, int]) -> str:
    """SQL: the calendar id of a ticket by its ``team_key``, else its ``region_key`` (lower
    case), else the default."""
    whens = []
    for field in ("teams", "regions"):
        column = field[:-1]
        for name, calendar in policy.calendars.items():
            members = getattr(calendar, field)
            if members:
                listed = ", ".join(literal(m.lower()) for m in members)
                whens.append(f"WHEN {column}_key IN ({listed}) THEN {ids[name]}")
    fallback = str(ids[policy.fallback_calendar])
    return f"CASE {' '.join(whens)} ELSE {fallback} END" if whens else fallback


def _build_clocks(
    engine: DuckDBEngine, policy: SlaPolicy, calendars: CalendarTables, *, clock_us: int
) -> None:
    """``sla_clock``: one row per ticket and metric with a target (``clock_id`` = 2 × ticket
    number + metric number): calendar, target, start, stop (NULL while running), end (the stop,
    else the clock) and the business time at start and end."""
    fr_seconds, fr_calendar = _target_case_sql(policy, "first_response", calendars.ids)
    res_seconds, res_calendar = _target_case_sql(policy, "resolution", calendars.ids)
    by_ticket = _ticket_calendar_sql(policy, calendars.ids)
    # A ticket solved without a reply got its first answer with the solution.
    clocks = f"""
        WITH t AS (
            SELECT case_id, created_us, first_response_us, first_resolved_us, resolved_us,
                   priority, team, channel, lower(priority) AS priority_key,
                   lower(channel) AS channel_key, lower(tier) AS tier_key,
                   lower(team) AS team_key, lower(region) AS region_key,
                   row_number() OVER () AS tid
            FROM kpi_tickets WHERE created_us <= {clock_us}
        ), m AS (
            SELECT case_id, 2 * tid AS clock_id, 0 AS metric_id, {fr_seconds} AS target_s,
                   coalesce({fr_calendar}, {by_ticket}) AS cid, created_us AS start_us,
                   {FIRST_ANSWER_SQL} AS stop_at,
                   priority, team, channel
            FROM t
            UNION ALL
            SELECT case_id, 2 * tid + 1, 1, {res_seconds},
                   coalesce({res_calendar}, {by_ticket}), created_us, resolved_us,
                   priority, team, channel
            FROM t
        )
        SELECT case_id, clock_id, metric_id, cid, priority, team, channel, target_s,
               greatest(1, CAST(round(target_s * {US}) AS BIGINT)) AS target_us, start_us,
               CASE WHEN stop_at <= {clock_us} THEN stop_at END AS stop_us,
               greatest(start_us, least(coalesce(stop_at, {clock_us}), {clock_us})) AS end_us
        FROM m WHERE target_s IS NOT NULL
    """
    with_start = business_time_sql(
        clocks, tables=calendars, cid="cid", at="start_us", out="b_start"
    )
    engine.materialise(
        "sla_clock",
        business_time_sql(with_start, tables=calendars, cid="cid", at="end_us", out="b_end"),
    )


def _build_pauses(engine: DuckDBEngine, policy: SlaPolicy, calendars: CalendarTables) -> None:
    """``sla_pauses``: the stretches in which a clock does not run (a pause state, or resolved
    before a reopen) with B at both ends, and ``sla_paused``, the paused business µs per clock."""
    pausing = [1, *([0] if policy.pause_first_response else [])]
    stopping = ", ".join(literal(s) for s in (*policy.pause_states, *_DONE_STATES))
    stretches = f"""
        SELECT c.clock_id, c.cid, greatest(i.start_us, c.start_us) AS s_us,
               least(coalesce(i.end_us, c.end_us), c.end_us) AS e_us
        FROM sla_clock c JOIN kpi_intervals i ON i.case_id = c.case_id
        WHERE c.metric_id IN ({", ".join(str(m) for m in pausing)}) AND i.state IN ({stopping})
          AND i.start_us < c.end_us AND coalesce(i.end_us, c.end_us) > c.start_us
    """
    with_start = business_time_sql(stretches, tables=calendars, cid="cid", at="s_us", out="bs")
    with_end = business_time_sql(with_start, tables=calendars, cid="cid", at="e_us", out="be")
    engine.materialise(
        "sla_pauses", f"SELECT clock_id, s_us, bs, be FROM ({with_end}) WHERE be > bs"
    )
    engine.materialise(
        "sla_paused",
        "SELECT clock_id, sum(be - bs) AS paused_us FROM sla_pauses GROUP BY clock_id",
    )


def _build_breaches(engine: DuckDBEngine, calendars: CalendarTables) -> None:
    """``sla_breaches``: the instant each late clock reached its target.

    In business time B, a clock starting at ``b_start`` reaches its target in the running gap
    before pause j at ``b_start + target + (business µs of the pauses before j)``, if that is
    not past the start of pause j; else after the last pause. These candidates grow with j,
    so the first valid one is the smallest; B is then inverted to an instant.
    """
    reach = f"""
        WITH late AS (
            SELECT c.clock_id, c.cid, c.b_start + c.target_us AS base,
                   coalesce(p.paused_us, 0) AS paused_us
            FROM sla_clock c LEFT JOIN sla_paused p ON p.clock_id = c.clock_id
            WHERE {_LATE}
        ), ordered AS (  -- only late clocks need their pauses in order
            SELECT l.clock_id, l.base, q.bs,
                   coalesce(sum(q.be - q.bs) OVER (PARTITION BY l.clock_id ORDER BY q.s_us
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_us
            FROM late l JOIN sla_pauses q ON q.clock_id = l.clock_id
        ), gaps AS (
            SELECT clock_id, min(base + before_us) FILTER (base + before_us <= bs) AS reach_us
            FROM ordered GROUP BY clock_id
        )
        SELECT l.clock_id, l.cid, coalesce(g.reach_us, l.base + l.paused_us) AS reach_us
        FROM late l LEFT JOIN gaps g ON g.clock_id = l.clock_id
    """
    engine.materialise(
        "sla_breaches",
        business_instant_sql(reach, tables=calendars, cid="cid", value="reach_us", out="breach_us"),
    )


def _kpi_sla_sql(calendars: CalendarTables) -> str:
    """SQL: the ``kpi_sla`` row of every clock."""
    metric = " ".join(f"WHEN {number} THEN {literal(name)}" for number, name in enumerate(METRICS))
    return f"""
        SELECT case_id, CASE metric_id {metric} END AS metric,
               {calendars.name_sql("cid")} AS calendar, target_s, start_us, stop_us,
               running_us / {US} AS elapsed_business_s, paused_us / {US} AS paused_business_s,
               breach_us, breached,
               CASE WHEN breached THEN false WHEN stop_us IS NOT NULL THEN true END AS met,
               CASE WHEN breached THEN breach_us WHEN stop_us IS NOT NULL THEN stop_us END
                 AS outcome_us
        FROM (
            SELECT c.*, c.b_end - c.b_start - coalesce(p.paused_us, 0) AS running_us,
                   coalesce(p.paused_us, 0) AS paused_us, b.breach_us, {_LATE} AS breached
            FROM sla_clock c
            LEFT JOIN sla_paused p ON p.clock_id = c.clock_id
            LEFT JOIN sla_breaches b ON b.clock_id = c.clock_id
        )
    """


def compute_sla_clocks(engine: DuckDBEngine, policy: SlaPolicy, *, clock_us: int) -> SlaSummary:
    """Materialise ``kpi_sla`` from ``kpi_tickets`` and ``kpi_intervals`` and summarise it.

    ``clock_us`` is "now": tickets created later are left out, and clocks that have not stopped
    by then run until it. ``kpi_tickets`` must have the columns ``case_id, created_us,
    first_response_us, first_resolved_us, resolved_us, last_us, priority, channel, tier, team,
    region`` and ``kpi_intervals`` ``case_id, start_us, end_us, state``. Also leaves the working
    tables ``sla_windows``, ``sla_days``, ``sla_reach`` (the calendars), ``sla_clock``,
    ``sla_pauses``, ``sla_paused`` and ``sla_breaches``.

    Raises:
        MiningError: a query failed (the message names it).
    """
    clock_us = int(clock_us)
    first_us, last_us = engine.rows(
        "sla_span",
        f"SELECT coalesce(min(created_us), {clock_us}), greatest(max(last_us), {clock_us}) "
        f"FROM kpi_tickets WHERE created_us <= {clock_us}",
    )[0]
    names = sorted({*policy.calendars, ALWAYS_OPEN})
    calendars = build_calendar_tables(
        engine,
        {name: policy.calendar(name) for name in names},
        start_us=int(first_us),
        end_us=int(last_us),
    )
    _build_clocks(engine, policy, calendars, clock_us=clock_us)
    _build_pauses(engine, policy, calendars)
    _build_breaches(engine, calendars)
    engine.materialise("kpi_sla", _kpi_sla_sql(calendars))
    return _summarise(engine, policy, clock_us=clock_us)


def _attainment(counts: list[int]) -> Attainment:
    tickets, met, breached, running = (int(n) for n in counts)
    return Attainment(
        tickets=tickets,
        with_outcome=met + breached,
        met=met,
        breached=breached,
        running=running,
        share_met=met / (met + breached) if met + breached else None,
    )


def _ordered(groups: dict[str, Attainment]) -> dict[str, Attainment] | None:
    """Largest groups first; ``None`` when no ticket has the dimension (the log lacks it)."""
    if not groups or set(groups) == {"(none)"}:
        return None
    return dict(sorted(groups.items(), key=lambda kv: (-kv[1].tickets, kv[0])))


def _metric_attainment(
    rows: list[tuple[Any, ...]], metric: str, *, tickets: int
) -> MetricAttainment:
    """One clock's attainment, rolled up from the counts per (metric, priority, team, channel)
    of :func:`_summarise`."""
    totals: list[dict[str | None, list[int]]] = [{}, {}, {}, {}]
    for metric_id, priority, team, channel, *counts in rows:
        if METRICS[metric_id] != metric:
            continue
        for position, key in enumerate((None, priority, team, channel)):
            sums = totals[position].setdefault(key, [0, 0, 0, 0])
            for index, count in enumerate(counts):
                sums[index] += int(count)
    overall = totals[0].get(None)
    groups = [
        {("(none)" if key is None else str(key)): _attainment(sums) for key, sums in found.items()}
        for found in totals[1:]
    ]
    return MetricAttainment(
        overall=Attainment.empty() if overall is None else _attainment(overall),
        no_target=tickets - (0 if overall is None else overall[0]),
        by_priority=_ordered(groups[0]),
        by_team=_ordered(groups[1]),
        by_channel=_ordered(groups[2]),
    )


def _summarise(engine: DuckDBEngine, policy: SlaPolicy, *, clock_us: int) -> SlaSummary:
    """Attainment per metric overall and per priority, team and channel: the database counts
    per combination of the three (few rows), Python adds them up."""
    rows = engine.rows(
        "sla_attainment",
        f"""
        SELECT metric_id, priority, team, channel, count(*),
               count(*) FILTER (NOT late AND stop_us IS NOT NULL), count(*) FILTER (late),
               count(*) FILTER (NOT late AND stop_us IS NULL)
        FROM (SELECT c.*, {_LATE} AS late
              FROM sla_clock c LEFT JOIN sla_paused p ON p.clock_id = c.clock_id)
        GROUP BY ALL
        """,
    )
    tickets = int(
        engine.rows(
            "sla_tickets", f"SELECT count(*) FROM kpi_tickets WHERE created_us <= {clock_us}"
        )[0][0]
    )
    return SlaSummary(
        clock=datetime.fromtimestamp(clock_us / US, tz=UTC).isoformat(),
        pause_states=list(policy.pause_states),
        first_response=_metric_attainment(rows, "first_response", tickets=tickets),
        resolution=_metric_attainment(rows, "resolution", tickets=tickets),
    )
