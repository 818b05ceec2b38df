"""Learn a simulation scenario from an event log (``supportflow simulate calibrate``).

Everything the desk model needs is read from the log, in SQL over the canonical ``events`` view,
so that Python sees only aggregates and samples:

- **the period that describes the process as it is now**: the cases that started in the last
  ``window`` (default 26 weeks) before the log's last case start. A help desk changes (the demo
  log's auto-close timer went from about a month to 15 days in August 2012); a plan should start
  from today's desk, not the average of four years;
- **open hours**: the hours of the week in which the desk's events happen
  (:func:`~supportflow.simulate.clock.learn_open_hours`);
- **arrivals**: case starts per hour of the week, divided by the number of times that hour of the
  week occurs in the window;
- **mix**: the joint shares of channel, language and priority (the case's first value);
- **variants**: every activity sequence with its count;
- **activities**: ``wait`` when at least ``timer_share`` of its events fall outside the open
  hours (a timer or the customer, not an agent), else ``work`` for the team that does most of
  them;
- **service times** of work steps: the time since the later of the case's previous event and
  the same agent's previous event (the resource-availability estimate of a start time that
  Simod and others use for logs with completion times only), in business seconds;
- **delays**: for each transition, the gap minus that service time (work steps) or the gap (wait
  steps), on the clock under which the gaps are more regular: the wall clock when their spread
  (interquartile range over median) is under half the business-time spread, as for a timer
  that closes tickets 15 days after resolution; otherwise the business clock of the open hours;
- **agents**: for each team, the distinct agents of an average working day in the last four
  weeks of the window (rounded up), working the open hours.

Every distribution is chosen by fit (:func:`~supportflow.simulate.distributions.fit`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from supportflow.eventlog.load import EventLog, load_event_log
from supportflow.kpi.compute import resolve_status_map
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules.status import StatusMap
from supportflow.simulate.clock import BusinessClock, learn_open_hours, zone_info
from supportflow.simulate.distributions import fit
from supportflow.simulate.scenario import (
    ARROW,
    HOURS_OF_WEEK,
    Activity,
    AgentGroup,
    Arrivals,
    Delay,
    MixRow,
    Scenario,
    Variant,
)

DEFAULT_WINDOW_S = 26 * 7 * 86400.0
DEFAULT_ARRIVAL_WINDOW_S = 52 * 7 * 86400.0
_SAMPLE = 20_000
"""At most this many observations per transition or activity are fitted."""
_DESK_TEAM = "desk"
MAX_SERVICE_S = 3600.0
"""The longest piece of work a completion-only log is trusted to show (see ``_service_times``)."""
_MIN_ROWS = 30
"""Fewer timings than this in the timing window: the step's older timings are used too."""


@dataclass(frozen=True)
class Calibration:
    """The scenario and how it was learned (printed by the command, kept in the YAML header)."""

    scenario: Scenario
    notes: list[str]


def calibrate(
    log_path: Path | str,
    *,
    window_s: float | Literal["auto"] | None = "auto",
    arrival_window_s: float | None = DEFAULT_ARRIVAL_WINDOW_S,
    timer_share: float = 0.10,
    **load_options: Any,
) -> Scenario:
    """The scenario of the log at ``log_path`` (read with the project's loader); with
    ``window_s="auto"`` both windows are chosen by :func:`calibrate_auto`."""
    log = load_event_log(log_path, **load_options)
    if window_s == "auto":
        return calibrate_auto(log, timer_share=timer_share).scenario
    return calibrate_log(
        log, window_s=window_s, arrival_window_s=arrival_window_s, timer_share=timer_share
    ).scenario


def calibrate_auto(log: EventLog, *, timer_share: float = 0.10, seeds: int = 3) -> Calibration:
    """Calibrate with the process and arrival windows a backtest on the log's own last cases
    chooses (:mod:`supportflow.simulate.backtest`)."""
    from supportflow.simulate.backtest import backtest

    tried = backtest(log, timer_share=timer_share, seeds=seeds)
    result = calibrate_log(
        log,
        window_s=tried.timing_window_s,
        variant_window_s=tried.variant_window_s,
        arrival_window_s=tried.arrival_window_s,
        timer_share=timer_share,
    )
    return Calibration(scenario=result.scenario, notes=[*tried.notes(), *result.notes])


def calibrate_log(
    log: EventLog,
    *,
    window_s: float | None = DEFAULT_WINDOW_S,
    arrival_window_s: float | None = DEFAULT_ARRIVAL_WINDOW_S,
    timer_share: float = 0.10,
    name: str | None = None,
    until_us: int | None = None,
    variant_window_s: float | Literal["same"] | None = "same",
) -> Calibration:
    """Learn a :class:`Scenario` from ``log``; see the module docstring for each part.

    ``until_us`` calibrates from the cases that started before it only (the log as it was
    known then; the backtest of :mod:`supportflow.simulate.backtest` uses it).
    """
    con = log.con
    notes: list[str] = []
    engine = DuckDBEngine(con)
    status, _, coverage = resolve_status_map(engine, log, None)
    until = 2**62 if until_us is None else until_us
    last_start = con.execute(
        f"SELECT max(s) FROM (SELECT min(ts) AS s FROM events GROUP BY case_id) WHERE s < {until}"
    ).fetchall()[0][0]
    if last_start is None:
        raise ValueError("the log has no events")
    cutoff = -(2**62) if window_s is None else int(last_start - window_s * 1e6)
    paths_window = window_s if variant_window_s == "same" else variant_window_s
    paths_cutoff = -(2**62) if paths_window is None else int(last_start - paths_window * 1e6)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sim_cases AS
        SELECT case_id, min(ts) AS start_us,
               min(ts) >= {cutoff} AS timing, min(ts) >= {paths_cutoff} AS paths
        FROM events GROUP BY case_id
        HAVING min(ts) >= least({cutoff}, {paths_cutoff}) AND min(ts) < {until}"""
    )
    cases, first_us = con.execute(
        "SELECT count(*), min(start_us) FROM sim_cases WHERE timing"
    ).fetchall()[0]
    if not cases:
        raise ValueError("no case starts in the calibration window")
    notes.append(
        f"{cases:,} cases that started from {_iso(first_us)} to {_iso(last_start)} "
        f"(window {'all' if window_s is None else f'{window_s / 86400:.0f} days'})"
    )
    has_team = log.has("team")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sim_events AS
        SELECT e.case_id, e.activity, e.resource,
               {"e.team" if has_team else "NULL"} AS team, e.ts, e.seq, timing, paths,
               lag(e.activity) OVER c AS prev_activity,
               lag(e.ts) OVER c AS prev_ts,
               CASE WHEN e.resource IS NULL THEN NULL ELSE lag(e.ts) OVER r END AS prev_res_ts
        FROM events e JOIN sim_cases USING (case_id)
        WHERE e.ts < {until}
        WINDOW c AS (PARTITION BY e.case_id ORDER BY e.ts, e.seq),
               r AS (PARTITION BY e.resource ORDER BY e.ts, e.seq)"""
    )
    ts = _column(con, f"SELECT ts FROM sim_events ORDER BY hash(case_id, seq) LIMIT {_SAMPLE * 10}")
    zone = log.timezone
    open_hours = learn_open_hours(ts, zone)
    lo = float(con.execute("SELECT min(ts) FROM sim_events").fetchall()[0][0]) / 1e6
    hi = float(con.execute("SELECT max(ts) FROM sim_events").fetchall()[0][0]) / 1e6
    clock = BusinessClock(open_hours, lo - 8 * 86400, hi + 8 * 86400)

    arrivals = _arrivals(con, zone, last_start, arrival_window_s, notes, until)
    mix = _mix(con, log)
    variants, still_open = _variants(con, status)
    if still_open:
        notes.append(f"{still_open:,} cases still open at the end of the log are not variants")
    activities, teams = _activities(con, clock, timer_share, has_team, notes)
    delays = _delays(con, clock, activities)
    agents = _agents(con, last_start, teams, has_team)
    scenario = Scenario(
        name=name or f"calibrated from {Path(log.report.source).name}",
        zone=zone,
        start=datetime.fromtimestamp(last_start / 1e6, tz=UTC),
        duration=28 * 86400.0,
        open_hours=open_hours,
        arrivals=arrivals,
        mix=mix,
        variants=variants,
        activities=activities,
        delays=delays,
        agents=agents,
        status_map=status.name,
    )
    notes.append(f"status map {status.name} names {coverage:.0%} of events")
    return Calibration(scenario=scenario, notes=notes)


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat(timespec="minutes")


def _column(con: Any, sql: str) -> np.ndarray:
    columns = con.execute(sql).fetchnumpy()
    return np.asarray(next(iter(columns.values())), dtype=np.int64)


def _arrivals(
    con: Any, zone: str, last_us: int, window_s: float | None, notes: list[str], until: int
) -> Arrivals:
    """Case starts per local hour of the week in the arrival window, per occurrence of that
    hour of the week in it."""
    from supportflow.simulate.arrivals import hours_of_week

    since = -(2**62) if window_s is None else int(last_us - window_s * 1e6)
    starts = (
        _column(
            con,
            f"""SELECT min(ts) AS s FROM events GROUP BY case_id
            HAVING min(ts) >= {since} AND min(ts) < {until} ORDER BY s""",
        )
        / 1e6
    )
    tz = zone_info(zone)
    how = hours_of_week(starts, tz)
    counts = np.bincount(how, minlength=HOURS_OF_WEEK).astype(float)
    # how many times each hour of the week occurs between the first and last start
    first_h, last_h = math.floor(starts[0] / 3600), math.ceil(last_us / 1e6 / 3600)
    hours = np.arange(first_h, last_h + 1)
    occurs = np.bincount(hours_of_week(hours * 3600.0 + 1800.0, tz), minlength=HOURS_OF_WEEK)
    rates = counts / np.maximum(occurs, 1)
    notes.append(
        f"arrivals: {len(starts):,} case starts over {(last_h - first_h) / 24:.0f} days "
        f"({sum(rates):.1f} a week)"
    )
    return Arrivals(per_hour_of_week=[round(float(r), 5) for r in rates])


def _mix(con: Any, log: EventLog) -> list[MixRow]:
    fields = [f for f in ("channel", "language", "priority") if log.has(f)]
    if not fields:
        return [MixRow(weight=1.0, channel=None, language=None, priority=None)]
    picks = ", ".join(f"arg_min(e.{f}, e.ts) AS {f}" for f in fields)
    rows = con.execute(
        f"""SELECT {", ".join(fields)}, count(*) FROM (
              SELECT {picks} FROM events e JOIN sim_cases USING (case_id) GROUP BY e.case_id)
            GROUP BY ALL ORDER BY count(*) DESC"""
    ).fetchall()
    return [
        MixRow(weight=float(row[-1]), **{f: row[i] for i, f in enumerate(fields)}) for row in rows
    ]


def _variants(con: Any, status: StatusMap) -> tuple[list[Variant], int]:
    """Every path of the paths window with its count, and how many open cases were left out.

    A case whose last step does not close it (or resolve it, where the log never closes
    tickets) and that started less than the 90th percentile of finished cases' durations before
    the log ends is still running: its path is cut short by the export, not by the desk, so it
    is not a variant.
    """
    rows = con.execute(
        """SELECT list(activity ORDER BY ts, seq), min(ts), max(ts) FROM sim_events WHERE paths
           GROUP BY case_id ORDER BY min(ts), case_id"""
    ).fetchall()
    seen = {status.key(a) for path, _, _ in rows for a in path}
    # a desk that closes tickets ends them there; one that never closes them, at resolution
    final = {status.key(a) for a in status.closed} & seen or {
        status.key(a) for a in status.resolved
    }
    done = [status.key(path[-1]) in final for path, _, _ in rows]
    lengths = [last - first for (_, first, last), ok in zip(rows, done, strict=True) if ok]
    end = max((last for _, _, last in rows), default=0)
    recent = end - float(np.quantile(lengths, 0.9)) if lengths else -math.inf
    counts: dict[tuple[str, ...], int] = {}
    left_out = 0
    for (path, first, _), ok in zip(rows, done, strict=True):
        if not ok and first > recent:
            left_out += 1
            continue
        key = tuple(path)
        counts[key] = counts.get(key, 0) + 1
    if not counts:  # every case is still open: keep them rather than learn nothing
        for path, _, _ in rows:
            counts[tuple(path)] = counts.get(tuple(path), 0) + 1
        left_out = 0
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Variant(path=list(path), weight=float(n)) for path, n in ordered], left_out


def _recent_rows(
    con: Any, columns: str, where: str, params: list[Any], seed: int
) -> list[tuple[Any, ...]]:
    """A sample of the rows of the timing window, or of the whole calibration period when the
    window holds fewer than ``_MIN_ROWS`` of them (a rare step keeps its older timings)."""
    for scope in ("timing", "TRUE"):
        # filtered first, then a fixed pseudo-random subset: the same rows on every run
        rows: list[tuple[Any, ...]] = con.execute(
            f"""SELECT {columns} FROM sim_events WHERE {where} AND {scope}
                ORDER BY hash(case_id, seq, {seed}) LIMIT {_SAMPLE}""",
            params,
        ).fetchall()
        if len(rows) >= _MIN_ROWS:
            break
    return rows


def _business_gaps(clock: BusinessClock, begin_us: np.ndarray, end_us: np.ndarray) -> np.ndarray:
    return np.asarray(clock.elapsed(begin_us / 1e6, end_us / 1e6), dtype=float)


def _activities(
    con: Any, clock: BusinessClock, timer_share: float, has_team: bool, notes: list[str]
) -> tuple[dict[str, Activity], set[str]]:
    names = [
        r[0]
        for r in con.execute(
            "SELECT activity FROM sim_events GROUP BY activity ORDER BY count(*) DESC, activity"
        ).fetchall()
    ]
    activities: dict[str, Activity] = {}
    teams: set[str] = set()
    for name in names:
        rows = _recent_rows(con, "ts, prev_ts, prev_res_ts, team", "activity = ?", [name], 7)
        ts = np.asarray([r[0] for r in rows], dtype=float)
        outside = float(np.mean(clock.elapsed(ts / 1e6 - 1.0, ts / 1e6) < 0.5))
        if outside >= timer_share:
            activities[name] = Activity(kind="wait")
            notes.append(f"{name}: a wait step ({outside:.0%} of its events outside open hours)")
            continue
        team = _DESK_TEAM
        if has_team:
            known = [r[3] for r in rows if r[3] is not None]
            if known:
                values, counts = np.unique(np.asarray(known, dtype=object), return_counts=True)
                team = str(values[int(np.argmax(counts))])
        teams.add(team)
        service = _service_times(clock, rows)
        activities[name] = Activity(kind="work", team=team, service=fit(service).dist)
    return activities, teams


def _service_times(clock: BusinessClock, rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Business seconds from the later of the case's and the agent's previous events, at most
    ``MAX_SERVICE_S``: a log of completions cannot say when work began, and a longer gap is an
    agent away or on other work, which the delays carry instead."""
    ts = np.asarray([r[0] for r in rows], dtype=float)
    prev = np.asarray([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
    prev_res = np.asarray([np.nan if r[2] is None else r[2] for r in rows], dtype=float)
    # the first event of a case is its arrival (the arrivals are learned from it): it takes
    # no time in the model, whatever the agent did before
    first = np.isnan(prev)
    begin = np.where(first, ts, np.fmax(prev, prev_res))
    if not len(ts):
        return np.zeros(1)
    gaps: np.ndarray = np.clip(_business_gaps(clock, begin, ts), 0.0, MAX_SERVICE_S)
    return gaps


def _delays(con: Any, clock: BusinessClock, activities: dict[str, Activity]) -> dict[str, Delay]:
    delays: dict[str, Delay] = {}
    pairs = con.execute(
        """SELECT prev_activity, activity FROM sim_events WHERE prev_activity IS NOT NULL
           GROUP BY ALL ORDER BY count(*) DESC, prev_activity, activity"""
    ).fetchall()
    for before, after in pairs:
        rows = _recent_rows(
            con,
            "ts, prev_ts, prev_res_ts",
            "prev_activity = ? AND activity = ?",
            [before, after],
            11,
        )
        ts = np.asarray([r[0] for r in rows], dtype=float)
        prev = np.asarray([r[1] for r in rows], dtype=float)
        if activities[after].kind == "wait":
            gaps = np.maximum(ts - prev, 0.0) / 1e6
            delays[f"{before}{ARROW}{after}"] = Delay(clock="wall", time=fit(gaps).dist)
            continue
        service = _service_times(clock, rows)
        wall = np.maximum(ts - prev, 0.0) / 1e6
        business = _business_gaps(clock, prev, ts)
        chosen = "wall" if _spread(wall) < 0.5 * _spread(business) else "business"
        gaps = wall if chosen == "wall" else business
        residual = np.maximum(gaps - service, 0.0)
        delays[f"{before}{ARROW}{after}"] = Delay(clock=chosen, time=fit(residual).dist)
    return delays


def _spread(gaps: np.ndarray) -> float:
    """Interquartile range over the median: a timer ("close 15 days after resolving") is
    regular on the wall clock, people's work on the business clock."""
    median = float(np.median(gaps)) if gaps.size else 0.0
    if median <= 0:
        return float("inf")
    q25, q75 = np.quantile(gaps, [0.25, 0.75])
    return float(q75 - q25) / median


def _agents(con: Any, last_us: int, teams: set[str], has_team: bool) -> list[AgentGroup]:
    """Agents per team: how many distinct agents worked on an average working day of the last
    four weeks of the window, rounded up (every agent seen in four weeks would overstaff the
    desk several times)."""
    since = last_us - 28 * 86400 * 10**6
    team_sql = "team" if has_team else f"'{_DESK_TEAM}'"
    rows = con.execute(
        f"""SELECT t, avg(n) FROM (
              SELECT {team_sql} AS t, ts // 86400000000 AS day, count(DISTINCT resource) AS n
              FROM sim_events
              WHERE ts >= {since} AND resource IS NOT NULL AND {team_sql} IS NOT NULL
              GROUP BY ALL)
            GROUP BY t ORDER BY t"""
    ).fetchall()
    counts = {str(t): math.ceil(float(n)) for t, n in rows}
    return [
        AgentGroup(name=team, team=team, count=max(counts.get(team, 0), 1))
        for team in sorted(teams)
    ]
