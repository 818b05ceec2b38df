"""Observation streams: each KPI as the list of moments when a new value of it became known.

An alert can only judge what was known at its clock. A first response time becomes known when
the agent answers, a resolution time when the ticket is resolved, an SLA outcome when the
target is met or missed, an arrival when the ticket is created. So every KPI is read from the
ticket tables as a stream of ``(obs_us, value)`` sorted by time, and what is known at a clock
``c`` is exactly the observations with ``obs_us <= c``. Every value depends only on events up to
its ``obs_us`` (the ticket's creation, its first answer, its state changes), which is what makes
the alert evaluation a pure function of the events so far. The backlog is a level, not a sample:
its stream holds the changes, +1 when a ticket is created or reopened, -1 when it is resolved.

A rule's ``where`` filter (for example ``priority: P1``) is applied here, in SQL, so Python only
receives the arrays it evaluates: one query per distinct (KPI, filter) pair of the rule file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt

from supportflow.kpi.tickets import FIRST_ANSWER_SQL
from supportflow.mining.engine import DuckDBEngine, MiningError
from supportflow.rules.alerts import AlertFilter, AlertRule, AlertRules

StreamKey = tuple[str, AlertFilter | None]
"""A stream's identity: the KPI and the rule's ``where`` filter (``None`` = every ticket)."""

_DONE = "('resolved', 'closed')"


class MonitorError(Exception):
    """The tables cannot give what the rules ask for (for example SLA rules without ``kpi_sla``)."""


@dataclass(frozen=True, eq=False)
class Stream:
    """One KPI's observations: ``times_us`` sorted ascending, ``values`` aligned with them.

    For the backlog, ``values`` are the level changes (+1, -1); otherwise the observed values
    (seconds for durations, 1/0 for an SLA met/missed, 1 for an event counted, a CSAT score).
    """

    times_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Observations:
    """Every stream the rules need, and the span of the log they were read from."""

    start_us: int
    """The log's first event: a window reaching before it is not full."""
    end_us: int
    """The log's last event: the replay stops there."""
    streams: Mapping[StreamKey, Stream]

    def stream(self, rule: AlertRule) -> Stream:
        """The stream ``rule`` reads.

        Raises:
            MonitorError: the observations were built for other rules.
        """
        key = (rule.kpi, rule.where)
        if key not in self.streams:
            raise MonitorError(
                f"no observations of {rule.kpi} for rule {rule.name!r}; build them with these rules"
            )
        return self.streams[key]


def _ticket_stream(instant: str, value: str) -> str:
    return (
        f"SELECT {instant} AS obs_us, {value} AS value FROM tickets t WHERE {instant} IS NOT NULL"
    )


def _transition_stream(kind: str, value: str) -> str:
    return (
        f"SELECT x.at_us AS obs_us, {value} AS value "
        f"FROM alert_transitions x JOIN tickets t USING (case_id) WHERE x.kind = '{kind}'"
    )


def _sla_stream(metric: str) -> str:
    return (
        "SELECT s.outcome_us AS obs_us, CASE WHEN s.met THEN 1.0 ELSE 0.0 END AS value "
        f"FROM kpi_sla s JOIN tickets t USING (case_id) "
        f"WHERE s.metric = '{metric}' AND s.outcome_us IS NOT NULL"
    )


# A resolution counts as a first response when it comes first (as in the KPI tables).
_FIRST_ANSWER = FIRST_ANSWER_SQL.replace("first_", "t.first_")
STREAM_SQL: dict[str, str] = {
    "first_response_time": _ticket_stream(_FIRST_ANSWER, f"({_FIRST_ANSWER} - t.created_us) / 1e6"),
    "time_to_assign": _ticket_stream(
        "t.first_assigned_us", "(t.first_assigned_us - t.created_us) / 1e6"
    ),
    "resolution_time": _transition_stream("resolved", "(x.at_us - t.created_us) / 1e6"),
    "handling_time": _transition_stream("resolved", "x.handling_s"),
    "sla_first_response_attainment": _sla_stream("first_response"),
    "sla_resolution_attainment": _sla_stream("resolution"),
    "arrivals": _ticket_stream("t.created_us", "1.0"),
    "resolutions": _transition_stream("resolved", "1.0"),
    "reopens": _transition_stream("reopened", "1.0"),
    # The CSAT score has no instant of its own: it is read at the ticket's last resolution.
    "csat": (
        "SELECT max(x.at_us) AS obs_us, any_value(t.csat) AS value "
        "FROM alert_transitions x JOIN tickets t USING (case_id) "
        "WHERE x.kind = 'resolved' AND t.csat IS NOT NULL GROUP BY x.case_id"
    ),
    "backlog": (
        "SELECT t.created_us AS obs_us, 1.0 AS value FROM tickets t "
        "UNION ALL SELECT x.at_us, CASE WHEN x.kind = 'resolved' THEN -1.0 ELSE 1.0 END "
        "FROM alert_transitions x JOIN tickets t USING (case_id)"
    ),
}
"""Per KPI, SQL giving ``(obs_us, value)``; ``tickets`` is ``kpi_tickets`` after the filter."""


def _table_exists(engine: DuckDBEngine, name: str) -> bool:
    rows = engine.rows(
        "alert_tables", "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]
    )
    return bool(rows[0][0])


def _build_transitions(engine: DuckDBEngine) -> None:
    """``alert_transitions``: each moment a ticket becomes resolved (entering resolved or closed
    from another state, or being created resolved) or reopened (leaving them), with the time
    it has spent ``in_progress`` before that moment."""
    columns = {row[0] for row in engine.rows("alert_interval_columns", "DESCRIBE kpi_intervals")}
    # Events at the same instant keep the log's order: ``n`` is the event's place in its ticket.
    order = "n" if "n" in columns else "start_us, end_us NULLS LAST, activity"
    case = f"PARTITION BY case_id ORDER BY {order}"
    engine.materialise(
        "alert_transitions",
        f"""
        WITH ordered AS (
            SELECT case_id, start_us, state, lag(state) OVER ({case}) AS prev_state,
                   sum(CASE WHEN state = 'in_progress' THEN end_us - start_us ELSE 0 END)
                     OVER ({case} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS handled_us
            FROM kpi_intervals)
        SELECT case_id, start_us AS at_us,
               CASE WHEN state IN {_DONE} THEN 'resolved' ELSE 'reopened' END AS kind,
               coalesce(handled_us, 0) / 1e6 AS handling_s
        FROM ordered
        WHERE (state IN {_DONE}) <> coalesce(prev_state IN {_DONE}, false)
        """,
    )


def _arrays(engine: DuckDBEngine, name: str, sql: str, filters: list[tuple[str, str]]) -> Stream:
    """Run a stream's ``sql`` on the tickets matching ``filters`` into numpy arrays sorted by
    time, timed and named like the engine's own queries.

    Raises:
        MiningError: the query failed.
    """
    # filters match as SLA targets do: ignoring case and surrounding spaces
    condition = (
        " AND ".join(f"lower(trim({column})) = lower(trim(?))" for column, _ in filters) or "true"
    )
    query = (
        f"WITH tickets AS (SELECT * FROM kpi_tickets WHERE {condition}) "
        f"SELECT obs_us, value FROM ({sql}) ORDER BY obs_us, value"
    )
    started = time.perf_counter()
    try:
        columns = engine.con.execute(query, [value for _, value in filters]).fetchnumpy()
    except duckdb.Error as exc:
        raise MiningError(f"query {name!r} failed: {exc}") from exc
    engine.timings_s[name] = engine.timings_s.get(name, 0.0) + time.perf_counter() - started
    return Stream(
        times_us=np.asarray(columns["obs_us"], dtype=np.int64),
        values=np.asarray(columns["value"], dtype=np.float64),
    )


def _check_filters(engine: DuckDBEngine, rules: AlertRules) -> None:
    """A ``where`` on a dimension the log does not have would never match: say so."""
    columns = {c for rule in rules.rules if rule.where for c, _ in rule.where.conditions()}
    for column in sorted(columns):
        known = engine.rows(f"alert_has_{column}", f"SELECT count({column}) FROM kpi_tickets")[0][0]
        if not known:
            rule = next(r for r in rules.rules if r.where and column in dict(r.where.conditions()))
            raise MonitorError(
                f"rule {rule.name!r} filters on {column}, but the log has no {column} values"
            )


def build_observations(engine: DuckDBEngine, *, rules: AlertRules) -> Observations:
    """Read the streams ``rules`` need from ``kpi_tickets``, ``kpi_intervals`` and, for SLA
    rules, ``kpi_sla`` in ``engine``'s connection.

    Raises:
        MonitorError: the log is empty, or an SLA rule finds no ``kpi_sla`` table.
        MiningError: a query failed.
    """
    if rules.needs_sla and not _table_exists(engine, "kpi_sla"):
        raise MonitorError(
            "SLA attainment rules need SLA outcomes: give an SLA policy (no kpi_sla table)"
        )
    # the log's last event, not its last state change: a reply at the end still moves the clock
    ticket_columns = {row[0] for row in engine.rows("alert_ticket_columns", "DESCRIBE kpi_tickets")}
    last_event = "(SELECT max(last_us) FROM kpi_tickets)" if "last_us" in ticket_columns else "NULL"
    first, last = engine.rows(
        "alert_span",
        f"SELECT min(start_us), greatest(max(start_us), {last_event}) FROM kpi_intervals",
    )[0]
    if first is None:
        raise MonitorError("the log has no events to replay")
    _check_filters(engine, rules)
    _build_transitions(engine)
    streams: dict[StreamKey, Stream] = {}
    for rule in rules.rules:
        key = (rule.kpi, rule.where)
        if key not in streams:
            filters = rule.where.conditions() if rule.where is not None else []
            streams[key] = _arrays(
                engine, f"alert_stream_{rule.kpi}", STREAM_SQL[rule.kpi], filters
            )
    return Observations(start_us=int(first), end_us=int(last), streams=streams)
