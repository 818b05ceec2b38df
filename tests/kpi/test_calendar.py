"""Business calendars as window tables, checked by hand and against a minute-by-minute reference.

The reference below looks at one UTC minute at a time: it reads the local wall clock of that minute
with ``zoneinfo`` (UTC to local is never ambiguous) and asks "is the desk open now?". Summing
minutes is slow but obviously right; the SQL under test uses window tables and ASOF joins.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import duckdb
import pytest

from supportflow.kpi.calendar import (
    CalendarTables,
    build_calendar_tables,
    business_instant_sql,
    business_time_sql,
    calendar_windows,
    local_to_utc_us,
)
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules.sla import SlaCalendar

US = 1_000_000
ROME = ZoneInfo("Europe/Rome")
OFFICE = SlaCalendar.model_validate(
    {
        "timezone": "Europe/Rome",
        "hours": {"mon-fri": "09:00-13:00,14:00-18:00", "sat": "09:00-12:00"},
        "holidays": "IT",
        "dates": [date(2024, 12, 24)],
    }
)
# Sunday nights across New York's changes: 02:30 does not exist on 2024-03-10, and 01:00-02:00
# happens twice on 2024-11-03 (both inside the window).
NIGHT = SlaCalendar.model_validate(
    {
        "timezone": "America/New_York",
        "hours": {"sun": "00:30-02:30", "wed": "10:00-16:00"},
        "holidays": "US",
    }
)
# Short windows: several of them within one business hour.
SHIFTS = SlaCalendar.model_validate(
    {
        "timezone": "Asia/Kolkata",  # UTC+05:30, no DST
        "hours": {"mon-sat": "08:00-08:20,08:40-09:10,09:30-09:45,10:00-10:30,23:50-24:00"},
    }
)
ROUND_THE_CLOCK = SlaCalendar.model_validate({"timezone": "Europe/Rome", "hours": "24x7"})
UTC_24X7 = SlaCalendar.model_validate({"hours": "24x7"})


def utc_us(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * US


def test_wall_times_that_dst_skips_or_repeats() -> None:
    # Rome, 2024-03-31: clocks jump from 02:00 CET (01:00Z) to 03:00 CEST.
    assert local_to_utc_us(date(2024, 3, 31), 150, ROME) == utc_us(2024, 3, 31, 1)
    assert local_to_utc_us(date(2024, 3, 31), 180, ROME) == utc_us(2024, 3, 31, 1)
    assert local_to_utc_us(date(2024, 3, 31), 1440, ROME) == utc_us(2024, 3, 31, 22)
    # Rome, 2024-10-27: 02:30 happens twice; the first (CEST, 00:30Z) counts.
    assert local_to_utc_us(date(2024, 10, 27), 150, ROME) == utc_us(2024, 10, 27, 0, 30)
    assert local_to_utc_us(date(2024, 10, 27), 1440, ROME) == utc_us(2024, 10, 27, 23)
    # Havana jumps at midnight: 2024-03-10 00:00 CST does not exist, the day starts at 05:00Z.
    havana = ZoneInfo("America/Havana")
    assert local_to_utc_us(date(2024, 3, 10), 0, havana) == utc_us(2024, 3, 10, 5)


def test_a_dst_week_with_a_holiday_by_hand() -> None:
    # Fri 25 Oct (CEST, UTC+2), Sat 26, Sun 27 (change), Mon 28 (CET, UTC+1) ... Fri 1 Nov holiday.
    windows = calendar_windows(OFFICE, first_day=date(2024, 10, 25), last_day=date(2024, 11, 2))
    hours = [(datetime.fromtimestamp(ws / US, UTC), (we - ws) / 3600 / US) for ws, we in windows]
    assert hours[:3] == [
        (datetime(2024, 10, 25, 7, tzinfo=UTC), 4.0),
        (datetime(2024, 10, 25, 12, tzinfo=UTC), 4.0),
        (datetime(2024, 10, 26, 7, tzinfo=UTC), 3.0),
    ]
    assert hours[3] == (datetime(2024, 10, 28, 8, tzinfo=UTC), 4.0)
    assert len(hours) == 3 + 4 * 2 + 1  # Mon-Thu two windows each, Sat 2 Nov, no Fri 1 Nov
    assert hours[-1] == (datetime(2024, 11, 2, 8, tzinfo=UTC), 3.0)
    # New York's Sunday 00:30-02:30 ends when the clocks jump (07:00Z) on 10 March: 1.5 h.
    night = calendar_windows(NIGHT, first_day=date(2024, 3, 10), last_day=date(2024, 3, 10))
    assert night == [(utc_us(2024, 3, 10, 5, 30), utc_us(2024, 3, 10, 7))]


def open_at(calendar: SlaCalendar, closed: set[date], minute_start: datetime) -> bool:
    """Is the desk open during this UTC minute? Read the local wall clock and look it up."""
    local = minute_start.astimezone(ZoneInfo(calendar.timezone))
    if local.date() in closed:
        return False
    wall = local.hour * 60 + local.minute
    return any(w.start_min <= wall < w.end_min for w in calendar.windows_on(local.weekday()))


class MinuteReference:
    """B(t) by summing open minutes since ``origin`` (prefix sums, µs)."""

    def __init__(self, calendar: SlaCalendar, origin: datetime, days: int) -> None:
        self.origin_us = int(origin.timestamp()) * US
        closed = set(calendar.dates)
        if calendar.holidays is not None:
            closed |= calendar.holidays.dates(range(origin.year, origin.year + 2))
        self.open = [
            open_at(calendar, closed, origin + timedelta(minutes=m)) for m in range(days * 24 * 60)
        ]
        self.before = [0, *accumulate(60 * US if o else 0 for o in self.open)]

    def business_us(self, t_us: int) -> int:
        minute, into = divmod(t_us - self.origin_us, 60 * US)
        assert 0 <= minute < len(self.open), "outside the reference span"
        return self.before[minute] + (into if self.open[minute] else 0)


Calendars = tuple[DuckDBEngine, CalendarTables]


def sql_business(calendars: Calendars, name: str, instants: list[int]) -> list[int]:
    engine, tables = calendars
    values = ", ".join(f"({i}, {tables.ids[name]}, {t})" for i, t in enumerate(instants))
    source = f"SELECT * FROM (VALUES {values}) v(i, cid, t)"
    query = business_time_sql(source, tables=tables, cid="cid", at="t", out="b")
    return [b for _, b in engine.rows("b", f"SELECT i, b FROM ({query}) ORDER BY i")]


def sql_instants(calendars: Calendars, name: str, values_us: list[int]) -> list[int]:
    engine, tables = calendars
    values = ", ".join(f"({i}, {tables.ids[name]}, {v})" for i, v in enumerate(values_us))
    source = f"SELECT * FROM (VALUES {values}) v(i, cid, v)"
    query = business_instant_sql(source, tables=tables, cid="cid", value="v", out="t")
    return [t for _, t in engine.rows("t", f"SELECT i, t FROM ({query}) ORDER BY i")]


@pytest.fixture(scope="module")
def calendars() -> Calendars:
    engine = DuckDBEngine(duckdb.connect())
    tables = build_calendar_tables(
        engine,
        {
            "office": OFFICE,
            "night": NIGHT,
            "shifts": SHIFTS,
            "round": ROUND_THE_CLOCK,
            "utc": UTC_24X7,
        },
        start_us=utc_us(2024, 3, 1),
        end_us=utc_us(2024, 12, 31),
    )
    return engine, tables


@pytest.mark.parametrize(
    ("name", "calendar", "origin"),
    [
        ("office", OFFICE, datetime(2024, 3, 25, tzinfo=UTC)),
        ("office", OFFICE, datetime(2024, 10, 20, tzinfo=UTC)),
        ("night", NIGHT, datetime(2024, 3, 5, tzinfo=UTC)),
        ("night", NIGHT, datetime(2024, 10, 28, tzinfo=UTC)),
        ("shifts", SHIFTS, datetime(2024, 6, 1, tzinfo=UTC)),
    ],
)
def test_business_time_matches_the_minute_reference(
    calendars: Calendars, name: str, calendar: SlaCalendar, origin: datetime
) -> None:
    days = 45  # covers a DST change, weekends and holidays (25 Apr, 1 May; 1 Nov, 8 Dec, ...)
    reference = MinuteReference(calendar, origin, days)
    rng = random.Random(6)
    span_us = days * 86400 * US
    pairs = [sorted(rng.randrange(span_us) for _ in range(2)) for _ in range(200)]
    instants = [reference.origin_us + t for pair in pairs for t in pair]
    business = sql_business(calendars, name, instants)
    for k in range(len(pairs)):
        t0, t1 = instants[2 * k], instants[2 * k + 1]
        expected = reference.business_us(t1) - reference.business_us(t0)
        assert business[2 * k + 1] - business[2 * k] == expected, (t0, t1)
    # The inverse: the first instant the business time reaches B(t) is t itself when the desk is
    # open at t, else the end of the last window before t.
    reached = sql_instants(calendars, name, business)
    for t, first in zip(instants, reached, strict=True):
        if reference.business_us(t) == 0:
            continue  # the window before t lies before the reference's origin
        assert first <= t
        assert reference.business_us(first) == reference.business_us(t)
        assert reference.business_us(first - 1) == reference.business_us(t) - 1


def test_short_windows_share_a_day_row_and_a_business_hour(calendars: Calendars) -> None:
    # The Kolkata shifts are five windows between 02:30Z and 18:30Z of one UTC day, and 60
    # business minutes pass through at least three of them.
    assert calendars[1].day_slots == 5
    assert calendars[1].reach_slots >= 3


def test_a_24x7_calendar_is_wall_clock_time_even_across_dst(calendars: Calendars) -> None:
    rng = random.Random(24)
    start, end = utc_us(2024, 3, 2), utc_us(2024, 12, 29)
    pairs = [sorted(rng.randrange(start, end) for _ in range(2)) for _ in range(300)]
    for name in ("round", "utc"):
        business = sql_business(calendars, name, [t for pair in pairs for t in pair])
        for k, (t0, t1) in enumerate(pairs):
            assert business[2 * k + 1] - business[2 * k] == t1 - t0
    # The 25-hour Sunday of October counts 25 hours.
    sunday = sql_business(calendars, "round", [utc_us(2024, 10, 26, 22), utc_us(2024, 10, 27, 23)])
    assert sunday[1] - sunday[0] == 25 * 3600 * US


def test_a_window_table_refuses_a_backwards_span() -> None:
    engine = DuckDBEngine(duckdb.connect())
    with pytest.raises(ValueError, match="ends"):
        build_calendar_tables(engine, {"office": OFFICE}, start_us=10, end_us=5)
