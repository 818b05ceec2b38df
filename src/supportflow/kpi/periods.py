"""Calendar periods in a team's own time zone: local days, weeks and months as UTC instants.

A drift profile says "March 2012"; for a help desk in Rome that month starts at local midnight
on 1 March, which is 23:00 UTC the day before. These helpers turn instants into local dates and
back, and :class:`Calendar` lays the days, weeks or months of a log's span out once, so that
observations find their period by a join instead of a per-row time-zone conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from supportflow.mining.engine import DuckDBEngine

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_NEVER_US = 2**62
CalendarUnit = Literal["day", "week", "month"]


def local_date(us: int, zone: ZoneInfo) -> date:
    """The local calendar date of an epoch-µs instant."""
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone).date()


def local_midnight_us(day: date, zone: ZoneInfo) -> int:
    """The first instant (epoch µs) of a local date; a midnight skipped by a clock change maps
    to the instant of the change."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return (start - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Calendar:
    """Consecutive local days, ISO weeks (from Monday) or calendar months covering a span:
    period ``i`` runs from ``starts_us[i]`` (a local midnight) to ``starts_us[i + 1]``."""

    zone: ZoneInfo
    starts: list[date]
    starts_us: list[int]

    @classmethod
    def build(cls, *, first_us: int, last_us: int, period: CalendarUnit, timezone: str) -> Calendar:
        """The periods from the one holding ``first_us`` to the one holding ``last_us``.

        Raises:
            ValueError: for an unknown time zone or period.
        """
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        if period not in ("day", "week", "month"):
            raise ValueError(f"period must be 'day', 'week' or 'month', not {period!r}")
        day = local_date(first_us, zone)
        starts = [day.replace(day=1) if period == "month" else day]
        if period == "week":
            starts = [day - timedelta(days=day.weekday())]
        starts_us = [local_midnight_us(starts[0], zone)]
        while starts_us[-1] <= last_us:
            start = starts[-1]
            if period == "month":
                starts.append(date(start.year + start.month // 12, start.month % 12 + 1, 1))
            else:
                starts.append(start + timedelta(days=7 if period == "week" else 1))
            starts_us.append(local_midnight_us(starts[-1], zone))
        return cls(zone, starts, starts_us)

    def materialise_map(self, engine: DuckDBEngine, name: str) -> None:
        """Create table ``name(day, p0, s1, p1, s2, p2)``: per UTC day (numbered from the first
        period's), the period at its start and up to two periods starting during it (``s1``,
        ``s2``: the instants they start, the day's end when none). A join on the day number
        assigns periods to millions of rows without converting each to local time; local days
        last 23 hours at least, so no UTC day holds more than two local midnights."""
        origin = self.starts_us[0] // _DAY_US * _DAY_US
        lows = origin + np.arange((self.starts_us[-1] - origin) // _DAY_US + 1) * _DAY_US
        starts = np.array([*self.starts_us, _NEVER_US, _NEVER_US], dtype=np.int64)
        p0 = np.maximum(np.searchsorted(starts, lows, side="right") - 1, 0)
        ends = lows + _DAY_US
        has1 = starts[p0 + 1] < ends
        has2 = has1 & (starts[p0 + 2] < ends)
        columns = [
            (lows - origin) // _DAY_US,
            p0,
            np.where(has1, starts[p0 + 1], ends),
            p0 + has1,
            np.where(has2, starts[p0 + 2], ends),
            p0 + has1 + has2,
        ]
        engine.rows(
            name,
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT unnest($1::BIGINT[]) AS day, "
            "unnest($2::INTEGER[]) AS p0, unnest($3::BIGINT[]) AS s1, unnest($4::INTEGER[]) AS p1, "
            "unnest($5::BIGINT[]) AS s2, unnest($6::INTEGER[]) AS p2",
            [column.tolist() for column in columns],
        )

    def period_sql(self, column: str, day_map: str) -> tuple[str, str]:
        """SQL for the period number of epoch-µs ``column``, and the join condition on the
        table ``day_map`` made by :meth:`materialise_map`."""
        m, origin = day_map, self.starts_us[0] // _DAY_US * _DAY_US
        return (
            f"CASE WHEN {column} >= {m}.s2 THEN {m}.p2 WHEN {column} >= {m}.s1 THEN {m}.p1 "
            f"ELSE {m}.p0 END",
            f"({column} - {origin}) // {_DAY_US} = {m}.day",
        )
