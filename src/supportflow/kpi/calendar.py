"""Business calendars as tables: when the help desk works, in UTC, and how to count business time.

An SLA of "4 business hours" means 4 hours of the team's working time: a ticket opened on Friday
at 17:00 in Rome, with working hours 09:00-18:00, reaches 4 hours on Monday at 12:00. This module
turns each calendar of an :class:`~supportflow.rules.sla.SlaPolicy` into working *windows* in
UTC, one per working period of a local day (holidays left out), each with ``cum``, the business
time of all earlier windows. The business time B up to an instant ``t`` is then a formula:

    B(t) = cum + clamp(t - ws, 0, we - ws)   of the last window with ws <= t   (0 before any)

so the business time between two instants is ``B(t1) - B(t0)``; and the first instant at which
the business time reaches a value ``V`` inverts it: in the window with ``cum < V <= cum + (we -
ws)``, it is ``ws + (V - cum)``.

"The last window before t" is a range lookup; an ASOF join does it, but sorts millions of rows.
So the windows are also cut into buckets that an ordinary equality join finds: one row per UTC
*day* (the business time before the day, and the day's few windows as columns ``ws1, we1, …``),
and one row per business *hour* (the windows the business time passes through in that hour).
B(t) is the day row of ``t`` plus its windows' clamps; its inverse is the hour row of ``V``.

**Daylight saving time.** Window bounds are local wall-clock times turned into UTC with
``zoneinfo``, day by day, so a day on which clocks change is as long as the real time that passes
between its bounds (Rome's 00:00-24:00 lasts 23 h on the last Sunday of March and 25 h on the last
Sunday of October). A wall time the spring change skips (02:30 that night) is the instant the
clocks jump (03:00 summer time); a wall time that happens twice in autumn is its first occurrence
(summer time). A window entirely inside the skipped hour is empty and dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from supportflow.eventlog.sql import literal
from supportflow.mining.engine import US, DuckDBEngine
from supportflow.rules.sla import SlaCalendar

DAY_US = 86_400 * US
HOUR_US = 3_600 * US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_MARGIN = timedelta(days=2)


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _ONE_US


def local_to_utc_us(day: date, minute: int, zone: ZoneInfo) -> int:
    """The UTC instant (µs) of wall time ``minute`` after midnight of ``day`` in ``zone``.

    ``minute`` may be 1440 (midnight ending the day). A wall time skipped by a DST change maps to
    the instant the clocks jump; a repeated one to its first occurrence.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    # fold=0 reads an ambiguous time as its first occurrence, and a skipped one with the offset
    # before the change (so it lands after the jump; pulled back below).
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return _us(instant)
    # Skipped: the jump lies between the reading with the later offset and the one with the earlier.
    low = _us(wall.replace(tzinfo=zone, fold=1).astimezone(UTC)) // US
    high = _us(instant) // US
    after = instant.astimezone(zone).utcoffset()
    while high - low > 1:  # invariant: offset(low) is before the jump, offset(high) after it
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz=zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high * US


def closed_days(calendar: SlaCalendar, *, first_day: date, last_day: date) -> set[date]:
    """Holidays and explicitly closed dates of ``calendar`` between the two days."""
    closed = {d for d in calendar.dates if first_day <= d <= last_day}
    if calendar.holidays is not None:
        years = range(first_day.year, last_day.year + 1)
        closed |= {d for d in calendar.holidays.dates(years) if first_day <= d <= last_day}
    return closed


def calendar_windows(
    calendar: SlaCalendar, *, first_day: date, last_day: date
) -> list[tuple[int, int]]:
    """The working windows ``(ws_us, we_us)`` in UTC of the local days ``first_day..last_day``,
    in time order, empty windows dropped."""
    zone = ZoneInfo(calendar.timezone)
    closed = closed_days(calendar, first_day=first_day, last_day=last_day)
    windows: list[tuple[int, int]] = []
    day = first_day
    while day <= last_day:
        if day not in closed:
            for window in calendar.windows_on(day.weekday()):
                start = local_to_utc_us(day, window.start_min, zone)
                end = local_to_utc_us(day, window.end_min, zone)
                if end > start:
                    windows.append((start, end))
        day += timedelta(days=1)
    return windows


def _merged(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows that touch (18:00 today ends where a 24x7 calendar's next day starts) as one."""
    merged: list[tuple[int, int]] = []
    for start, end in windows:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _day_rows(
    windows: list[tuple[int, int]], *, origin_us: int, days: int
) -> list[tuple[int, int, list[tuple[int, ...]]]]:
    """Per UTC day: ``(day, business µs before it, its windows clipped to it as (ws, we))``."""
    rows = []
    cum = 0  # business µs of the windows before windows[first]
    first = 0
    for day in range(days):
        start, end = origin_us + day * DAY_US, origin_us + (day + 1) * DAY_US
        while first < len(windows) and windows[first][1] <= start:
            cum += windows[first][1] - windows[first][0]
            first += 1
        before = cum
        if first < len(windows) and windows[first][0] < start:
            before += start - windows[first][0]
        clipped: list[tuple[int, ...]] = []
        k = first
        while k < len(windows) and windows[k][0] < end:
            clipped.append((max(windows[k][0], start), min(windows[k][1], end)))
            k += 1
        rows.append((day, before, clipped))
    return rows


def _reach_rows(windows: list[tuple[int, int]]) -> list[tuple[int, int, list[tuple[int, ...]]]]:
    """Per business hour b (business µs in ``(b·H, (b+1)·H]``): ``(b, 0, windows)``, the windows
    whose business time overlaps it as ``(ws, cum at ws, cum at we)``."""
    buckets: dict[int, list[tuple[int, ...]]] = {}
    cum = 0
    for ws, we in windows:
        end = cum + (we - ws)
        for bucket in range(cum // HOUR_US, (end - 1) // HOUR_US + 1):
            buckets.setdefault(bucket, []).append((ws, cum, end))
        cum = end
    return [(bucket, 0, found) for bucket, found in sorted(buckets.items())]


def _slotted(
    rows: list[tuple[int, int, int, list[tuple[int, ...]]]], names: tuple[str, ...], key: str
) -> tuple[dict[str, list[Any]], int]:
    """Rows ``(cid, key, cum_us, items)`` as a table with the items spread over numbered columns
    (``ws1, we1, ws2, …``); short rows are padded with zeros (empty windows). Also the slots."""
    slots = max([1, *(len(items) for *_, items in rows)])
    columns: dict[str, list[Any]] = {
        "cid": [row[0] for row in rows],
        key: [row[1] for row in rows],
        "cum_us": [row[2] for row in rows],
    }
    for slot in range(slots):
        for position, name in enumerate(names):
            columns[f"{name}{slot + 1}"] = [
                items[slot][position] if slot < len(items) else 0 for *_, items in rows
            ]
    return columns, slots


@dataclass(frozen=True)
class CalendarTables:
    """The tables of :func:`build_calendar_tables` and what SQL needs to read them."""

    ids: dict[str, int]
    """Calendar name → the small integer ``cid`` that keys the tables."""
    origin_us: int
    """Start (UTC midnight) of day 0; the covered span starts there."""
    day_slots: int
    """Window columns per day row (``ws1, we1`` … ``wsN, weN``)."""
    reach_slots: int
    """Window columns per business-hour row (``ws1, c1, e1`` …)."""
    prefix: str

    def id_sql(self, name_sql: str) -> str:
        """SQL: the ``cid`` of the calendar named by the SQL expression ``name_sql``."""
        whens = " ".join(f"WHEN {literal(name)} THEN {cid}" for name, cid in self.ids.items())
        return f"CAST(CASE {name_sql} {whens} END AS INTEGER)"

    def name_sql(self, cid_sql: str) -> str:
        """SQL: the name of the calendar whose ``cid`` is the SQL expression ``cid_sql``."""
        whens = " ".join(f"WHEN {cid} THEN {literal(name)}" for name, cid in self.ids.items())
        return f"CASE {cid_sql} {whens} END"


def build_calendar_tables(
    engine: DuckDBEngine,
    calendars: Mapping[str, SlaCalendar],
    *,
    start_us: int,
    end_us: int,
    prefix: str = "sla",
) -> CalendarTables:
    """Materialise the working windows of every calendar over ``start_us..end_us`` (plus two
    days either side) as three tables:

    - ``{prefix}_windows``: ``calendar, cid, ws_us, we_us, cum_us, cum_s``, one row per window
      (windows that touch are merged), for people and tests to read;
    - ``{prefix}_days``: ``cid, day, cum_us, ws1, we1, …``, one row per UTC day with the business
      µs before it and its windows: B(t) is an equality join on the day of ``t``;
    - ``{prefix}_reach``: ``cid, hour, cum_us (0), ws1, c1, e1, …``, one row per business hour
      with the windows in which the business time passes through it: the inverse of B is an
      equality join on the business hour of the value.

    Business time is only right inside the covered span: pass the earliest and the latest
    instant a clock can read.

    Raises:
        ValueError: ``end_us`` is before ``start_us``.
        MiningError: a table could not be written.
    """
    if end_us < start_us:
        raise ValueError(f"the span ends ({end_us}) before it starts ({start_us})")
    first_day = (datetime.fromtimestamp(start_us // US, tz=UTC) - _MARGIN).date()
    last_day = (datetime.fromtimestamp(end_us // US, tz=UTC) + _MARGIN).date()
    origin_us = _us(datetime.combine(first_day, time(), tzinfo=UTC))
    days = (last_day - first_day).days + 1
    ids = {name: cid for cid, name in enumerate(calendars)}
    listed: list[tuple[str, int, int, int, int]] = []
    day_rows: list[tuple[int, int, int, list[tuple[int, ...]]]] = []
    reach_rows: list[tuple[int, int, int, list[tuple[int, ...]]]] = []
    for name, calendar in calendars.items():
        windows = _merged(calendar_windows(calendar, first_day=first_day, last_day=last_day))
        cums = [0, *accumulate(we - ws for ws, we in windows)]
        listed += [
            (name, ids[name], ws, we, cum) for (ws, we), cum in zip(windows, cums, strict=False)
        ]
        day_rows += [(ids[name], *r) for r in _day_rows(windows, origin_us=origin_us, days=days)]
        reach_rows += [(ids[name], *r) for r in _reach_rows(windows)]
    day_table, day_slots = _slotted(day_rows, ("ws", "we"), "day")
    reach_table, reach_slots = _slotted(reach_rows, ("ws", "c", "e"), "hour")
    window_columns = ("calendar", "cid", "ws_us", "we_us", "cum_us")
    window_table = {k: [row[i] for row in listed] for i, k in enumerate(window_columns)}
    _write(engine, f"{prefix}_windows", window_table, f", cum_us / {US} AS cum_s", "cid, ws_us")
    _write(engine, f"{prefix}_days", day_table, "", "cid, day")
    _write(engine, f"{prefix}_reach", reach_table, "", "cid, hour")
    return CalendarTables(
        ids=ids, origin_us=origin_us, day_slots=day_slots, reach_slots=reach_slots, prefix=prefix
    )


def _write(
    engine: DuckDBEngine, table: str, columns: dict[str, list[Any]], extra: str, order: str
) -> None:
    """Materialise ``table`` from Python columns (passed as list parameters, zipped by unnest)."""
    unnested = ", ".join(
        f"unnest(${i}::{'VARCHAR' if name == 'calendar' else 'BIGINT'}[]) AS {name}"
        for i, name in enumerate(columns, start=1)
    )
    engine.rows(
        table,
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT *{extra} FROM (SELECT {unnested}) "
        f"ORDER BY {order}",
        params=list(columns.values()),
    )


def business_time_sql(source: str, *, tables: CalendarTables, cid: str, at: str, out: str) -> str:
    """SQL: the rows of ``source`` with ``out`` = B(``at``), the business µs of calendar ``cid``
    up to the instant ``at`` (column names of ``source``). NULL when ``at`` is NULL or outside
    the covered span."""
    day = f"d_{out}"
    inside = " + ".join(
        f"greatest(0, least(s.{at}, {day}.we{k}) - {day}.ws{k})"
        for k in range(1, tables.day_slots + 1)
    )
    return f"""
        SELECT s.*, {day}.cum_us + {inside} AS {out}
        FROM ({source}) s LEFT JOIN {tables.prefix}_days {day}
          ON {day}.cid = s.{cid} AND {day}.day = (s.{at} - {tables.origin_us}) // {DAY_US}
    """


def business_instant_sql(
    source: str, *, tables: CalendarTables, cid: str, value: str, out: str
) -> str:
    """SQL: the rows of ``source`` with ``out`` = the first instant (µs) at which the business
    time of calendar ``cid`` reaches ``value`` µs (the inverse of :func:`business_time_sql`;
    NULL when ``value`` is not positive or lies beyond the covered span)."""
    hour = f"h_{out}"
    whens = " ".join(
        f"WHEN s.{value} <= {hour}.e{k} THEN {hour}.ws{k} + (s.{value} - {hour}.c{k})"
        for k in range(1, tables.reach_slots + 1)
    )
    return f"""
        SELECT s.*, CASE {whens} END AS {out}
        FROM ({source}) s LEFT JOIN {tables.prefix}_reach {hour}
          ON {hour}.cid = s.{cid} AND {hour}.hour = (s.{value} - 1) // {HOUR_US}
    """
