"""Monitoring: judge alert rules at a clock, and replay a whole log through them.

At any clock, a rule looks at its KPI's observations inside its window (the last 2 hours, the
last 7 days, or today since local midnight), takes the statistic (p90, share of SLAs met, a
count, the backlog level) and tests its one condition. Too few observations to judge means
*insufficient data*, never an alert. :func:`evaluate` is a pure function of (observations known
at the clock, rules, clock): it reads only observations with ``obs_us <= clock``, so the live
service can call it on every tick and get what the replay got.

:func:`replay` walks the log's whole span. A rule's verdict can only change at a few instants:
when an observation enters its window, when one leaves it (``obs_us + window``), at local
midnight for ``today``, when a full window has passed since the log began. The replay evaluates
exactly there, with the same arithmetic as :func:`evaluate`, and reports each episode: when the
alert fired and when it cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from supportflow.kpi.observations import Observations, Stream
from supportflow.rules.alerts import AlertRule, AlertRules

US = 1_000_000
Status = Literal["firing", "pending", "ok", "insufficient_data"]
_QUANTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95}
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _iso(epoch_us: int) -> str:
    return datetime.fromtimestamp(epoch_us / US, tz=UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class AlertState:
    """A rule's verdict at one clock.

    ``value`` is the statistic over the window (``None`` when the window is empty), ``sample``
    the observations it is computed from (for the backlog, the open tickets). For a change rule,
    ``baseline`` is the statistic over the previous window and ``change`` the relative change
    (0.5 = +50 %).
    """

    rule: str
    severity: str
    status: Status
    value: float | None
    sample: int
    baseline: float | None = None
    change: float | None = None

    @property
    def firing(self) -> bool:
        """Whether the alert is on."""
        return self.status == "firing"


@dataclass(frozen=True)
class AlertEpisode:
    """One time an alert fired, until it cleared (``cleared_at_us`` is ``None`` if it was still
    firing at the end of the log).

    ``value`` and ``sample`` are the figure the condition tested and its sample when the alert
    fired (for a change rule the relative change); ``peak`` is the worst such figure during the
    episode (the highest for ``above``, the lowest for ``below``). Durations are in seconds,
    shares in 0..1 (see ``unit``).
    """

    rule: str
    severity: str
    condition: str
    unit: str
    fired_at_us: int
    cleared_at_us: int | None
    value: float
    sample: int
    peak: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: instants as ISO 8601 UTC, ``duration_s`` while it fired."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "condition": self.condition,
            "unit": self.unit,
            "fired_at": _iso(self.fired_at_us),
            "cleared_at": None if self.cleared_at_us is None else _iso(self.cleared_at_us),
            "duration_s": None
            if self.cleared_at_us is None
            else (self.cleared_at_us - self.fired_at_us) / US,
            "value": self.value,
            "sample": self.sample,
            "peak": self.peak,
        }


@dataclass(frozen=True, eq=False)
class _Verdicts:
    """A rule judged at many clocks at once (arrays aligned with the clocks), before ``for``."""

    clocks: IntArray
    value: FloatArray
    sample: IntArray
    baseline: FloatArray
    tested: FloatArray
    """The figure the condition compares with the threshold (the value or the change)."""
    judged: npt.NDArray[np.bool_]
    """Enough data: full windows and at least ``min_sample`` observations."""
    firing: npt.NDArray[np.bool_]


def _is_change(rule: AlertRule) -> bool:
    return rule.condition is not None and rule.condition[0].startswith("change_")


def _window_us(rule: AlertRule) -> int:
    assert rule.window is not None and rule.window != "today"
    return round(float(rule.window) * US)


def day_starts(first_us: int, last_us: int, timezone: str) -> IntArray:
    """The local midnights (UTC µs) from the one at or before ``first_us`` to the one after
    ``last_us``. A day whose midnight does not exist (clocks jump at 00:00) starts when the
    clocks resume."""
    zone = ZoneInfo(timezone)
    day = datetime.fromtimestamp(first_us / US, tz=zone).date()
    last = datetime.fromtimestamp(last_us / US, tz=zone).date() + timedelta(days=1)
    starts = []
    while day <= last:
        # fold=0 reads a midnight skipped by the clocks with the earlier offset, which lands on
        # the first instant of that day.
        starts.append(int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()) * US)
        day += timedelta(days=1)
    return np.array(starts, dtype=np.int64)


def _statistic(
    stream: Stream, prefix: FloatArray, lo: IntArray, hi: IntArray, name: str
) -> FloatArray:
    """``name`` over ``stream.values[lo:hi]`` for each pair of bounds (NaN for an empty slice)."""
    count = (hi - lo).astype(np.float64)
    if name == "count":
        return count
    if name in ("mean", "share"):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, (prefix[hi] - prefix[lo]) / count, np.nan)
    result = np.full(len(lo), np.nan)
    for i in np.flatnonzero(hi > lo):
        window = stream.values[lo[i] : hi[i]]
        result[i] = window.max() if name == "max" else _quantile(window, _QUANTILES[name])
    return result


def _quantile(values: FloatArray, q: float) -> float:
    """The ``q`` quantile with linear interpolation: numpy's default method, and its rounding,
    without its per-call overhead (the replay takes one per instant)."""
    ordered = np.sort(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    fraction = position - below
    low, high = float(ordered[below]), float(ordered[min(below + 1, len(ordered) - 1)])
    if fraction >= 0.5:
        return high - (high - low) * (1 - fraction)
    return low + (high - low) * fraction


def _level(stream: Stream, prefix: FloatArray, clocks: IntArray) -> FloatArray:
    """The backlog level at each clock: the sum of its changes up to and including the clock."""
    return prefix[np.searchsorted(stream.times_us, clocks, side="right")]


def _verdicts(
    observations: Observations, rule: AlertRule, timezone: str, clocks: IntArray
) -> _Verdicts:
    """Judge ``rule`` at every clock in ``clocks`` using only observations up to each clock."""
    stream = observations.stream(rule)
    prefix = np.concatenate(([0.0], np.cumsum(stream.values)))
    times, start = stream.times_us, observations.start_us
    baseline = np.full(len(clocks), np.nan)
    baseline_sample = np.zeros(len(clocks), dtype=np.int64)
    if rule.statistic == "value":
        value = _level(stream, prefix, clocks)
        sample = np.maximum(value, 0).astype(np.int64)
        full = clocks >= start
        if rule.window is not None:
            earlier = clocks - _window_us(rule)
            baseline = _level(stream, prefix, earlier)
            baseline_sample = np.maximum(baseline, 0).astype(np.int64)
            full = earlier >= start
    else:
        if rule.window == "today":
            days = day_starts(int(clocks.min()), int(clocks.max()), timezone)
            opened = days[np.searchsorted(days, clocks, side="right") - 1]
            lo = np.searchsorted(times, opened, side="left")  # today is [midnight, clock]
            full = opened >= start
        else:
            width = _window_us(rule)
            lo = np.searchsorted(times, clocks - width, side="right")  # window (clock - w, clock]
            full = clocks - width >= start
        hi = np.searchsorted(times, clocks, side="right")
        value = _statistic(stream, prefix, lo, hi, rule.statistic)
        sample = (hi - lo).astype(np.int64)
        if _is_change(rule):
            width = _window_us(rule)
            before = np.searchsorted(times, clocks - 2 * width, side="right")
            baseline = _statistic(stream, prefix, before, lo, rule.statistic)
            baseline_sample = (lo - before).astype(np.int64)
            full = clocks - 2 * width >= start
    return _judge(rule, clocks, value, sample, baseline, baseline_sample, full)


def _judge(
    rule: AlertRule,
    clocks: IntArray,
    value: FloatArray,
    sample: IntArray,
    baseline: FloatArray,
    baseline_sample: IntArray,
    full: npt.NDArray[np.bool_],
) -> _Verdicts:
    condition = rule.condition
    assert condition is not None
    name, threshold = condition
    judged = full & (sample >= rule.min_sample) & ~np.isnan(value)
    tested = value
    if name.startswith("change_"):
        # No baseline (too small, empty or zero) means no relative change to judge.
        judged &= (baseline_sample >= rule.min_sample) & ~np.isnan(baseline) & (baseline != 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            tested = (value - baseline) / np.abs(baseline)
    with np.errstate(invalid="ignore"):
        crossed = tested > threshold if name.endswith("above") else tested < threshold
    return _Verdicts(clocks, value, sample, baseline, tested, judged, judged & crossed)


def _optional(number: float) -> float | None:
    return None if np.isnan(number) else float(number)


def _status(
    observations: Observations, rule: AlertRule, timezone: str, verdict: _Verdicts
) -> Status:
    """The verdict at one clock (arrays of length 1), with ``for`` applied: a firing condition
    is only *pending* until it has held at every instant of the last ``for``."""
    if not verdict.firing[0]:
        return "ok" if verdict.judged[0] else "insufficient_data"
    hold = round(rule.hold * US)
    if hold == 0:
        return "firing"
    clock = int(verdict.clocks[0])
    if clock - hold < observations.start_us:
        return "pending"
    span = _instants(observations, rule, timezone, lo=clock - hold, hi=clock)
    held = _verdicts(observations, rule, timezone, span).firing.all()
    return "firing" if held else "pending"


def evaluate(observations: Observations, rules: AlertRules, *, clock_us: int) -> list[AlertState]:
    """Every rule's verdict at ``clock_us``, in the order of the rule file.

    Reads only observations with ``obs_us <= clock_us``: a pure function of the events so far,
    the rules and the clock.

    Raises:
        MonitorError: ``observations`` lack a stream a rule needs.
    """
    clocks = np.array([clock_us], dtype=np.int64)
    states = []
    for rule in rules.rules:
        verdict = _verdicts(observations, rule, rules.timezone, clocks)
        is_change = _is_change(rule)
        states.append(
            AlertState(
                rule=rule.name,
                severity=rule.severity,
                status=_status(observations, rule, rules.timezone, verdict),
                value=_optional(verdict.value[0]),
                sample=int(verdict.sample[0]),
                baseline=_optional(verdict.baseline[0]) if is_change else None,
                change=_optional(verdict.tested[0]) if is_change else None,
            )
        )
    return states


def _instants(
    observations: Observations, rule: AlertRule, timezone: str, *, lo: int, hi: int
) -> IntArray:
    """``lo`` and the later clocks up to ``hi`` at which ``rule``'s verdict can change."""
    start = observations.start_us
    times = observations.stream(rule).times_us
    parts = [np.array([lo, start], dtype=np.int64), times]
    if rule.window == "today":
        parts.append(day_starts(lo, hi, timezone))
    elif rule.window is not None:
        # An observation enters the previous window one window after it entered the current
        # one, and leaves it one more window later; a level's baseline is one window back.
        steps = 2 if _is_change(rule) and rule.statistic != "value" else 1
        for step in range(1, steps + 1):
            shift = step * _window_us(rule)
            parts += [times + shift, np.array([start + shift], dtype=np.int64)]
    clocks = np.unique(np.concatenate(parts))
    return clocks[(clocks >= lo) & (clocks <= hi)]


def _episodes(rule: AlertRule, verdict: _Verdicts, *, end_us: int) -> list[AlertEpisode]:
    """Episodes from verdicts at every instant of the log: the condition's runs, each firing
    once it has lasted ``for`` (runs shorter than that never fire)."""
    clocks = verdict.clocks
    firing = verdict.firing.astype(np.int8)
    edges = np.diff(np.concatenate(([0], firing, [0])))
    condition = rule.condition
    assert condition is not None
    worst = np.max if condition[0].endswith("above") else np.min
    hold = round(rule.hold * US)
    episodes = []
    for begin, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        fired = int(clocks[begin]) + hold
        cleared = int(clocks[stop]) if stop < len(clocks) else None
        if fired > end_us or (cleared is not None and cleared <= fired):
            continue
        at = int(np.searchsorted(clocks, fired, side="right")) - 1  # the state in force then
        episodes.append(
            AlertEpisode(
                rule=rule.name,
                severity=rule.severity,
                condition=rule.describe(),
                unit="fraction" if condition[0].startswith("change_") else rule.unit,
                fired_at_us=fired,
                cleared_at_us=cleared,
                value=float(verdict.tested[at]),
                sample=int(verdict.sample[at]),
                peak=float(worst(verdict.tested[at:stop])),
            )
        )
    return episodes


def replay(observations: Observations, rules: AlertRules) -> list[AlertEpisode]:
    """Replay the log through ``rules``: every episode of every alert, sorted by when it fired
    (then by the rule file's order).

    An episode starts at the first instant its rule fires (its condition has held for ``for``)
    and ends at the first instant the condition no longer holds or the data became
    insufficient. Its verdicts are those
    :func:`evaluate` gives at the same clocks.

    Raises:
        MonitorError: ``observations`` lack a stream a rule needs.
    """
    episodes: list[tuple[int, int, AlertEpisode]] = []
    for order, rule in enumerate(rules.rules):
        start, end = observations.start_us, observations.end_us
        clocks = _instants(observations, rule, rules.timezone, lo=start, hi=end)
        verdict = _verdicts(observations, rule, rules.timezone, clocks)
        episodes += [(e.fired_at_us, order, e) for e in _episodes(rule, verdict, end_us=end)]
    return [episode for _, _, episode in sorted(episodes, key=lambda item: item[:2])]
