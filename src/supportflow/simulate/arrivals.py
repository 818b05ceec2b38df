"""When tickets arrive: a non-homogeneous Poisson process by local hour of the week, or a
replay of a log's own arrivals, scaled by the multiplier and dated peaks.

For every hour the rate is that local hour of the week's, times the multiplier and any peak
covering the hour's middle; the count is Poisson and the instants uniform inside the hour (exact
for a piecewise-constant rate). Hours run from local hour boundaries, so a zone half an hour off
UTC (Asia/Kolkata) keeps its hours.
"""

from __future__ import annotations

import functools
import math
import zoneinfo
from datetime import UTC, datetime

import numpy as np

from supportflow.simulate.scenario import HOURS_OF_WEEK, Scenario

_HOUR = 3600.0


def arrival_instants(
    scenario: Scenario, rng: np.random.Generator, *, cases: int | None, start_s: float
) -> np.ndarray:
    """Arrival instants (epoch seconds, sorted): exactly ``cases`` of them, or every arrival in
    ``scenario.duration`` when ``cases`` is ``None``."""
    if scenario.arrivals.replay is not None:
        return _replayed(scenario, rng, cases=cases, start_s=start_s)
    rates = np.asarray(scenario.arrivals.per_hour_of_week, dtype=float)
    rates = rates * scenario.arrivals.multiplier
    zone = zoneinfo.ZoneInfo(scenario.zone)
    peaks = scenario.peak_windows()
    end_s = (
        start_s + scenario.duration if cases is None and scenario.duration is not None else math.inf
    )
    chunks: list[np.ndarray] = []
    total = 0
    # hours run from local hour boundaries (Kolkata's hours start at :30 UTC); arrivals before
    # ``start_s`` in the first, partial hour are dropped
    hour_start = start_s - (start_s + _offset_s(start_s, zone)) % _HOUR
    while True:
        hours = 24 * 7 * 4  # four weeks at a time
        starts = hour_start + _HOUR * np.arange(hours)
        mids = starts + _HOUR / 2
        how = hours_of_week(mids, zone)
        lam = rates[how]
        for begin, finish, multiplier in peaks:
            lam = np.where((mids >= begin) & (mids < finish), lam * multiplier, lam)
        counts = rng.poisson(lam)
        times = np.repeat(starts, counts) + rng.uniform(0, _HOUR, int(counts.sum()))
        times.sort()
        times = times[times >= start_s]
        if end_s < math.inf:
            times = times[times < end_s]
        chunks.append(times)
        total += len(times)
        hour_start = starts[-1] + _HOUR
        if (cases is not None and total >= cases) or hour_start >= end_s:
            break
        if cases is not None and hour_start - start_s > 50 * 365 * 86400:
            raise ValueError("arrival rates too low to reach the requested number of cases")
    arrivals = np.concatenate(chunks) if chunks else np.empty(0)
    return arrivals[:cases] if cases is not None else arrivals


@functools.lru_cache(maxsize=8)
def _case_starts(path: str, zone: str) -> np.ndarray:
    """Each case's first event (epoch seconds, sorted) in the event log at ``path``."""
    from supportflow.eventlog.load import load_event_log

    log = load_event_log(path, timezone=zone)
    starts = log.con.execute("SELECT min(ts) FROM events GROUP BY case_id").fetchnumpy()
    return np.sort(np.asarray(next(iter(starts.values())), dtype=float) / 1e6)


def _replayed(
    scenario: Scenario, rng: np.random.Generator, *, cases: int | None, start_s: float
) -> np.ndarray:
    """The replayed log's arrivals from ``start_s`` on (``cases`` of them, or those inside
    ``duration``), scaled: where the multiplier (times any peak) is m, each arrival comes
    floor(m) times and once more with probability m - floor(m); copies after the first land
    uniformly in the hour after it. A multiplier below 1 keeps each arrival with probability m."""
    assert scenario.arrivals.replay is not None
    real = _case_starts(scenario.arrivals.replay, scenario.zone)
    real = real[real >= start_s]
    if cases is None and scenario.duration is not None:
        real = real[real < start_s + scenario.duration]
    factor = np.full(len(real), scenario.arrivals.multiplier)
    for begin, finish, multiplier in scenario.peak_windows():
        factor = np.where((real >= begin) & (real < finish), factor * multiplier, factor)
    copies = np.floor(factor).astype(np.int64) + (rng.random(len(real)) < factor % 1.0)
    first = np.repeat(real, copies)
    extra = np.concatenate([np.arange(n) for n in copies]) if len(copies) else np.empty(0)
    instants = np.sort(first + np.where(extra > 0, rng.uniform(0, _HOUR, len(first)), 0.0))
    if cases is not None:
        if len(instants) < cases:
            raise ValueError(
                f"the replayed log has {len(instants):,} arrivals from the start, fewer than the "
                f"{cases:,} cases asked for"
            )
        instants = instants[:cases]
    return instants


def hours_of_week(instants_s: np.ndarray, zone: zoneinfo.ZoneInfo) -> np.ndarray:
    """Local hour of the week (Monday 00 = 0) of each instant, DST-correct."""
    if not len(instants_s):
        return np.empty(0, dtype=np.int64)
    # the UTC offset changes rarely: evaluate it once per distinct day and interpolate by day
    days = np.floor(instants_s / 86400.0).astype(np.int64)
    offsets = np.empty(len(instants_s))
    for day in np.unique(days):
        mask = days == day
        # offsets at the start and end of this UTC day; pick per instant (DST switches mid-day)
        first = _offset_s(float(day) * 86400.0, zone)
        last = _offset_s(float(day + 1) * 86400.0 - 1, zone)
        if first == last:
            offsets[mask] = first
        else:
            offsets[mask] = [_offset_s(float(t), zone) for t in instants_s[mask]]
    local = instants_s + offsets
    # 1970-01-01 was a Thursday: shift so that Monday 00:00 is hour 0
    return ((np.floor(local / _HOUR).astype(np.int64) + 72) % HOURS_OF_WEEK).astype(np.int64)


def _offset_s(instant_s: float, zone: zoneinfo.ZoneInfo) -> float:
    offset = datetime.fromtimestamp(instant_s, tz=UTC).astimezone(zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0
