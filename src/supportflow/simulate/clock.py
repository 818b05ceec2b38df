"""Business time: when the desk is open, and how far "3 business hours" takes a ticket.

A desk in Rome open Monday to Friday 08:00-18:00 that starts a 3-hour task on Friday at 17:00
works one hour on Friday and two on Monday, and finishes at 10:00 Monday. Its week is
:class:`OpenHours`: which of the 168 local hours of the week (Monday 00:00 first) are open, in
an IANA zone. A scenario writes it compactly::

    open_hours:
      zone: Europe/Rome
      weekly: {mon-fri: "08:00-18:00", sat: "09:00-13:00"}

Each key is a weekday (``mon`` … ``sun``) or a range of them (``mon-fri``; ``fri-mon`` wraps);
each value one or more half-open local windows ``"HH:00-HH:00"`` separated by commas, on the
hour (``24:00`` ends a day; split a night shift over two days). Days not named are closed;
``weekly: 24x7`` is always open. The full form is ``hours``: 7 rows of 24 booleans (or 168).

:class:`BusinessClock` turns the week into open intervals in UTC epoch seconds and their
cumulative open time, so that business time between instants, and the instant a business
duration ends, are a binary search away. An instant is open when its local wall-clock reading
falls in an open hour: when clocks spring forward the skipped hour does not exist and counts
nothing; when they fall back the repeated hour counts twice (Rome's 02:00-03:00 on 27 October
2024 is two real hours). The same rule as :mod:`supportflow.kpi.calendar`'s SLA calendars.
"""

from __future__ import annotations

import math
import zoneinfo
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from supportflow.rules.sla import ALWAYS_OPEN, WEEKDAYS, parse_day_hours

HOUR_S = 3_600
WEEK_S = 7 * 24 * HOUR_S
HOURS_OF_WEEK = 168
_MONDAY_S = -3 * 86_400
"""1969-12-29 00:00, a Monday: week k of local time starts at ``_MONDAY_S + k * WEEK_S``."""
_OFFSET_PROBE_S = 6 * HOUR_S
"""Offsets are probed this often, then transitions located to the second (zones change at
most once in 6 hours)."""

FloatArray = npt.NDArray[np.float64]


def zone_info(zone: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``zone``.

    Raises:
        ValueError: the name is unknown; the message gives an example.
    """
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {zone!r}; use an IANA name such as Europe/Rome"
        ) from None


class OpenHours(BaseModel):
    """The open hours of a week in a zone; see the module docstring for the YAML forms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zone: str = "UTC"
    hours: tuple[tuple[bool, ...], ...]
    """Seven rows (Monday first) of 24 local hours; ``True`` = open."""

    @model_validator(mode="before")
    @classmethod
    def _weekly_form(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "weekly" not in data:
            return data
        if "hours" in data:
            raise ValueError("give hours or weekly, not both")
        rest = {key: value for key, value in data.items() if key != "weekly"}
        return {**rest, "hours": _hours_from_weekly(data["weekly"])}

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_info(value)
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _seven_days(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) == HOURS_OF_WEEK:
            value = [value[24 * day : 24 * day + 24] for day in range(7)]
        if not isinstance(value, list | tuple) or len(value) != 7:
            raise ValueError("give 7 rows (mon … sun) of 24 booleans, or 168 booleans")
        for day, row in zip(WEEKDAYS, value, strict=True):
            if not isinstance(row, list | tuple) or len(row) != 24:
                raise ValueError(f"{day}: give 24 booleans, one per hour from 00:00")
        return value

    @field_validator("hours")
    @classmethod
    def _opens_sometime(cls, value: tuple[tuple[bool, ...], ...]) -> tuple[tuple[bool, ...], ...]:
        if not any(any(row) for row in value):
            raise ValueError("no hour is open; a desk that never opens has no business time")
        return value

    @classmethod
    def always(cls, zone: str = "UTC") -> OpenHours:
        """Open every hour of the week (business time is wall time)."""
        return cls(zone=zone, hours=((True,) * 24,) * 7)

    def week_mask(self) -> npt.NDArray[np.bool_]:
        """168 booleans, Monday 00:00 local first."""
        return np.array(self.hours, dtype=bool).ravel()

    def weekly(self) -> dict[str, str]:
        """The compact form: ``{"mon-fri": "08:00-18:00", "sat": "09:00-13:00"}``."""
        texts = [_day_text(row) for row in self.hours]
        weekly: dict[str, str] = {}
        first = 0
        for day in range(1, 8):
            if day == 7 or texts[day] != texts[first]:
                if texts[first]:
                    key = (
                        WEEKDAYS[first]
                        if day - 1 == first
                        else f"{WEEKDAYS[first]}-{WEEKDAYS[day - 1]}"
                    )
                    weekly[key] = texts[first]
                first = day
        return weekly

    def to_yaml_dict(self) -> dict[str, Any]:
        """``{"zone": ..., "weekly": ...}``, the form a person reads and writes."""
        return {"zone": self.zone, "weekly": self.weekly()}


def _day_text(row: tuple[bool, ...]) -> str:
    windows = []
    hour = 0
    while hour < 24:
        if row[hour]:
            end = hour
            while end < 24 and row[end]:
                end += 1
            windows.append(f"{hour:02d}:00-{end:02d}:00")
            hour = end
        else:
            hour += 1
    return ",".join(windows)


def _weekdays_in(key: str) -> list[int]:
    names = [part.strip() for part in key.lower().split("-")]
    if len(names) > 2 or any(name not in WEEKDAYS for name in names):
        raise ValueError(
            f"weekly: unknown weekday {key!r}; use mon, tue, wed, thu, fri, sat, sun or a range "
            "such as mon-fri"
        )
    first, last = WEEKDAYS.index(names[0]), WEEKDAYS.index(names[-1])
    return [(first + i) % 7 for i in range((last - first) % 7 + 1)]


def _hours_from_weekly(weekly: object) -> list[list[bool]]:
    if weekly == ALWAYS_OPEN:
        return [[True] * 24 for _ in range(7)]
    if not isinstance(weekly, dict):
        raise ValueError('weekly: write 24x7 or days with windows, such as mon-fri: "08:00-18:00"')
    hours = [[False] * 24 for _ in range(7)]
    named_by: dict[int, str] = {}
    for key, text in weekly.items():
        try:
            windows = parse_day_hours(text)
        except ValueError as exc:
            raise ValueError(f"weekly.{key}: {exc}") from None
        for day in _weekdays_in(str(key)):
            if day in named_by:
                raise ValueError(
                    f"weekly.{key}: {WEEKDAYS[day]} is also given by {named_by[day]!r}"
                )
            named_by[day] = str(key)
            for window in windows:
                if window.start_min % 60 or window.end_min % 60:
                    raise ValueError(
                        f"weekly.{key}: {window} is not on the hour; open hours are whole hours"
                    )
                for hour in range(window.start_min // 60, window.end_min // 60):
                    hours[day][hour] = True
    return hours


def _offset_s(zone: zoneinfo.ZoneInfo, instant_s: int) -> int:
    offset = datetime.fromtimestamp(instant_s, tz=zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offset_changes(
    zone: zoneinfo.ZoneInfo, lo_s: int, hi_s: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The UTC instants from which the zone's offset holds (the first is ``lo_s``) and the
    offsets in seconds, covering ``[lo_s, hi_s]``."""
    probes = list(range(lo_s, hi_s + _OFFSET_PROBE_S, _OFFSET_PROBE_S))
    offsets = [_offset_s(zone, t) for t in probes]
    since, values = [lo_s], [offsets[0]]
    for k in range(1, len(probes)):
        if offsets[k] != offsets[k - 1]:
            before, after = probes[k - 1], probes[k]  # locate the change to the second
            while after - before > 1:
                middle = (before + after) // 2
                if _offset_s(zone, middle) == offsets[k - 1]:
                    before = middle
                else:
                    after = middle
            since.append(after)
            values.append(offsets[k])
    return np.array(since, dtype=np.int64), np.array(values, dtype=np.int64)


def _week_runs(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """The open runs of a week as ``[start, end)`` seconds after Monday 00:00 (n × 2)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.column_stack((np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))) * HOUR_S


def _open_intervals(
    open_hours: OpenHours, lo_s: int, hi_s: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Open intervals ``[start, end)`` in UTC seconds within ``[lo_s, hi_s)``, merged."""
    runs = _week_runs(open_hours.week_mask())
    since, offsets = _offset_changes(zone_info(open_hours.zone), lo_s, hi_s)
    until = np.append(since[1:], hi_s)
    starts, ends = [], []
    for seg_lo, seg_hi, offset in zip(since, until, offsets, strict=True):
        # within a stretch of constant offset, local time is UTC + offset: cut local weeks
        local_lo, local_hi = seg_lo + offset, seg_hi + offset
        weeks = np.arange((local_lo - _MONDAY_S) // WEEK_S, (local_hi - _MONDAY_S) // WEEK_S + 1)
        week_starts = (_MONDAY_S + weeks * WEEK_S)[:, None]
        begin = np.maximum((week_starts + runs[:, 0]).ravel(), local_lo)
        end = np.minimum((week_starts + runs[:, 1]).ravel(), local_hi)
        kept = begin < end
        starts.append(begin[kept] - offset)
        ends.append(end[kept] - offset)
    start, end = np.concatenate(starts), np.concatenate(ends)
    if not start.size:
        return start, end
    # intervals that touch (Sunday 24:00 = Monday 00:00, a DST change) become one
    new = np.concatenate(([True], start[1:] != end[:-1]))
    return start[new], end[np.concatenate((new[1:], [True]))]


def learn_open_hours(
    timestamps_us: npt.ArrayLike, zone: str, *, min_share: float = 0.002
) -> OpenHours:
    """The hours a desk works, read from when its events happen (UTC epoch microseconds).

    An hour of the week is open when at least ``min_share`` of the events fall in it (local
    time in ``zone``): 0.2 % by default, a tenth of the share a uniform 24/7 desk gives each
    hour. A log of fewer than ``2 / min_share`` events (1,000 at the default) cannot tell a
    quiet hour from a closed one, since a single stray event would open its hour; it yields
    the always-open week, under which business time is wall time.

    Raises:
        ValueError: ``zone`` is unknown, or ``min_share`` is not in (0, 1/168] (above 1/168 no
            hour might qualify).
    """
    tz = zone_info(zone)
    if not 0 < min_share <= 1 / HOURS_OF_WEEK:
        raise ValueError(f"min_share must be in (0, 1/168], not {min_share}")
    seconds = np.floor_divide(np.asarray(timestamps_us), 1_000_000).astype(np.int64).ravel()
    if seconds.size < 2 / min_share:
        return OpenHours.always(zone)
    since, offsets = _offset_changes(tz, int(seconds.min()), int(seconds.max()) + 1)
    local = seconds + offsets[np.searchsorted(since, seconds, side="right") - 1]
    hour_of_week = ((local - _MONDAY_S) // HOUR_S) % HOURS_OF_WEEK
    counts = np.bincount(hour_of_week, minlength=HOURS_OF_WEEK)
    mask = counts >= min_share * seconds.size
    return OpenHours(
        zone=zone, hours=tuple(tuple(bool(h) for h in mask[24 * d : 24 * d + 24]) for d in range(7))
    )


class BusinessClock:
    """Business time of ``open_hours`` between and after instants in UTC epoch seconds.

    The open intervals of ``[start_s - margin_s, end_s + margin_s]`` are computed at once.
    A question beyond that horizon extends it automatically (each extension at least doubles
    it, so a long run rebuilds a few times); the answers do not depend on the horizon, up to
    float rounding of a few microseconds.
    """

    def __init__(
        self, open_hours: OpenHours, start_s: float, end_s: float, *, margin_s: float = 14 * 86_400
    ) -> None:
        if not end_s >= start_s:
            raise ValueError(f"end_s ({end_s}) is before start_s ({start_s})")
        self.open_hours = open_hours
        self._open_share = float(open_hours.week_mask().mean())
        self._margin_s = margin_s
        self._build(start_s - margin_s, end_s + margin_s)

    def _build(self, lo_s: float, hi_s: float) -> None:
        lo, hi = math.floor(lo_s), math.ceil(hi_s)
        start, end = _open_intervals(self.open_hours, lo, hi)
        while not start.size:  # a horizon inside a closed stretch: widen until it holds one
            lo, hi = lo - WEEK_S, hi + WEEK_S
            start, end = _open_intervals(self.open_hours, lo, hi)
        # floats, as the instants compared with them: int-to-float comparison is slow
        self._lo, self._hi = float(lo), float(hi)
        self._starts = start.astype(np.float64)
        self._ends = end.astype(np.float64)
        self._lengths = self._ends - self._starts
        self._cum_end = np.cumsum(self._lengths)
        self._cum_start = self._cum_end - self._lengths
        self._total = float(self._cum_end[-1])
        # lists for the scalar hot path: bisect on a list beats numpy on one value
        self._starts_list: list[float] = self._starts.tolist()
        self._ends_list: list[float] = self._ends.tolist()
        self._cum_start_list: list[float] = self._cum_start.tolist()
        self._cum_end_list: list[float] = self._cum_end.tolist()

    @property
    def horizon(self) -> tuple[float, float]:
        """The UTC seconds between which open intervals are computed now."""
        return float(self._lo), float(self._hi)

    def _cover(self, lo_s: float, hi_s: float) -> None:
        if not (math.isfinite(lo_s) and math.isfinite(hi_s)):
            raise ValueError(f"not an instant: {lo_s if not math.isfinite(lo_s) else hi_s}")
        if lo_s >= self._lo and hi_s <= self._hi:
            return
        growth = max(self._margin_s, self._hi - self._lo)
        lo = self._lo - growth if lo_s < self._lo else self._lo
        hi = self._hi + growth if hi_s > self._hi else self._hi
        self._build(min(lo, lo_s - self._margin_s), max(hi, hi_s + self._margin_s))

    def intervals(self) -> Iterator[tuple[float, float]]:
        """The open intervals ``(start, end)`` within the current horizon, in time order."""
        return zip(self._starts_list, self._ends_list, strict=True)

    def _open_before(self, t: FloatArray) -> FloatArray:
        """Open seconds from the horizon's start to ``t``."""
        index = np.searchsorted(self._starts, t, side="right") - 1
        at = np.maximum(index, 0)
        inside = np.clip(t - self._starts[at], 0.0, self._lengths[at])
        return np.where(index < 0, 0.0, self._cum_start[at] + inside)

    def elapsed(self, t0_s: npt.ArrayLike, t1_s: npt.ArrayLike) -> FloatArray:
        """Open seconds in ``[t0, t1)``, element-wise; negative when ``t1`` is before ``t0``."""
        t0, t1 = np.broadcast_arrays(np.asarray(t0_s, np.float64), np.asarray(t1_s, np.float64))
        if t0.size:
            self._cover(float(min(t0.min(), t1.min())), float(max(t0.max(), t1.max())))
        return self._open_before(t1) - self._open_before(t0)

    def add(self, t_s: npt.ArrayLike, d_s: npt.ArrayLike) -> FloatArray:
        """The earliest instant ``t'`` ≥ ``t`` with ``d`` open seconds in ``[t, t')``.

        A closed ``t`` first waits for the desk to open; ``d = 0`` returns ``t`` itself, even at
        a closed instant (a step of no work does not wait for opening time).

        Raises:
            ValueError: a negative or NaN duration.
        """
        t, d = np.broadcast_arrays(np.asarray(t_s, np.float64), np.asarray(d_s, np.float64))
        if not (d >= 0).all():
            raise ValueError("business durations must be zero or more (and not NaN)")
        if not t.size:
            return np.array(t, dtype=np.float64)
        self._cover(float(t.min()), float(t.max()))
        target = self._open_before(t) + d
        while float(target.max()) >= self._total:  # >=: the interval after must exist
            # open at the week's share, the missing open time takes about this long
            missing = (float(target.max()) - self._total) / self._open_share
            self._cover(self._lo, self._hi + missing + 2 * WEEK_S)
            target = self._open_before(t) + d
        # the interval t is in, else the next: a tiny d lost in rounding must not end before t
        first = np.searchsorted(self._starts, t, side="right") - 1
        first = np.where(self.is_open(t), first, first + 1)
        index = np.maximum(np.searchsorted(self._cum_end, target, side="left"), first)
        reached = np.maximum(self._starts[index] + (target - self._cum_start[index]), t)
        return np.where(d == 0, t, reached)

    def add1(self, t_s: float, d_s: float) -> float:
        """:meth:`add` for one instant and duration, for a simulator's hot loop."""
        if d_s <= 0.0:
            if d_s == 0.0:
                return t_s
            raise ValueError(f"business durations must be zero or more, not {d_s}")
        if not self._lo <= t_s <= self._hi:
            self._cover(t_s, t_s)
        starts = self._starts_list
        index = bisect_right(starts, t_s) - 1
        if index < 0:
            target = d_s
        else:
            end = self._ends_list[index]
            if t_s >= end:  # closed: the open time before t is all of this interval's
                target = self._cum_end_list[index] + d_s
                index += 1
            elif t_s + d_s <= end:
                return t_s + d_s  # finishes in the interval it starts in
            else:
                target = self._cum_start_list[index] + (t_s - starts[index]) + d_s
        if target >= self._total:
            return float(self.add(t_s, d_s))
        # from the interval t is in (or the next): a tiny d lost in rounding cannot go back
        later = bisect_left(self._cum_end_list, target, max(index, 0))
        reached = starts[later] + (target - self._cum_start_list[later])
        return reached if reached >= t_s else t_s

    def is_open(self, t_s: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each instant falls in an open hour."""
        t = np.asarray(t_s, np.float64)
        if t.size:
            self._cover(float(t.min()), float(t.max()))
        index = np.searchsorted(self._starts, t, side="right") - 1
        return (index >= 0) & (t < self._ends[np.maximum(index, 0)])

    def next_open(self, t_s: npt.ArrayLike) -> FloatArray:
        """``t`` where open, else the start of the next open interval."""
        t = np.asarray(t_s, np.float64)
        if not t.size:
            return np.array(t, dtype=np.float64)
        # a skipped (spring-forward) hour can close a whole week: look two weeks ahead
        self._cover(float(t.min()), float(t.max()) + 2 * WEEK_S)
        following = np.searchsorted(self._starts, t, side="right")
        return np.where(
            self.is_open(t), t, self._starts[np.minimum(following, len(self._starts) - 1)]
        )
