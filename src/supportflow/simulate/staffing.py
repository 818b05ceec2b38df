"""How many agents an interval needs: Erlang C, the queueing model of a service desk.

Calls (or chats, or tickets) arrive at random, ``arrivals`` per interval, each keeping an agent
busy for ``aht`` seconds on average. The offered load ``A = arrivals × aht / interval`` is the
number of agents that would be busy all the time. With ``N > A`` agents the queue is stable and
Erlang C (an M/M/N queue) gives, for a random arrival:

- the probability of waiting ``C(N, A) = N·B / (N − A·(1 − B))``, where ``B`` is Erlang B,
  computed by the recursion ``B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))``, which never forms a
  factorial or a power and so stays finite for thousands of agents;
- the service level, the share answered within ``t`` seconds: ``1 − C·exp(−(N − A)·t / aht)``;
- the average speed of answer ``ASA = C·aht / (N − A)``; the occupancy ``A / N``.

Staffing searches the smallest ``N`` that meets the target (a service level such as "80 % within
20 s", or a maximum ASA) and, optionally, keeps occupancy under a cap; shrinkage (breaks,
training, meetings) then scales agents on the queue up to agents to schedule:
``ceil(N / (1 − shrinkage))``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from supportflow.simulate.erlang_a import erlang_a

_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")
_ASA = re.compile(r"^\s*asa\s*(?:<=|:|=)?\s*(\d+(?:\.\d+)?)\s*s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """What an interval must achieve: a service level (``share`` answered within
    ``within_s``) or a maximum average speed of answer, and optionally an occupancy cap."""

    share: float | None = None
    within_s: float | None = None
    max_asa_s: float | None = None
    max_occupancy: float | None = None


def parse_target(text: str, *, max_occupancy: float | None = None) -> Target:
    """``"80/20"`` (80 % within 20 s) or ``"asa:30"`` (average wait at most 30 s).

    Raises:
        ValueError: the text is neither form, or a number is out of range.
    """
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError(f"the occupancy cap must be in (0, 1], not {max_occupancy}")
    level = _TARGET.match(text)
    if level:
        share, within = float(level.group(1)) / 100, float(level.group(2))
        if not 0 < share < 1:
            raise ValueError(f"target {text!r}: the share must be between 0 and 100 %")
        return Target(share=share, within_s=within, max_occupancy=max_occupancy)
    asa = _ASA.match(text)
    if asa:
        limit = float(asa.group(1))
        if limit <= 0:
            raise ValueError(f"target {text!r}: the average wait must be positive")
        return Target(max_asa_s=limit, max_occupancy=max_occupancy)
    raise ValueError(
        f"target {text!r} not understood: write 80/20 (80 % answered within 20 s) "
        "or asa:30 (average wait at most 30 s)"
    )


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: the share of arrivals that would find all ``agents`` busy with no queue."""
    blocked = 1.0
    for n in range(1, agents + 1):
        blocked = load * blocked / (n + load * blocked)
    return blocked


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: the probability that an arrival waits (1 when ``agents <= load``)."""
    if agents <= load:
        return 1.0
    blocked = erlang_b(agents, load)
    return agents * blocked / (agents - load * (1.0 - blocked))


@dataclass(frozen=True)
class Performance:
    """What ``agents`` achieve against ``load`` (Erlang C)."""

    agents: int
    wait_probability: float
    service_level: float | None
    asa_s: float
    occupancy: float
    abandon_share: float | None = None
    """Erlang A only: the share of arrivals who give up waiting."""


def performance(agents: int, *, load: float, aht_s: float, within_s: float | None) -> Performance:
    """Waiting probability, service level (when ``within_s`` is given), ASA and occupancy."""
    wait = erlang_c(agents, load)
    if agents <= load:
        return Performance(agents, 1.0, 0.0 if within_s is not None else None, math.inf, 1.0)
    level = None
    if within_s is not None:
        level = max(0.0, 1.0 - wait * math.exp(-(agents - load) * within_s / aht_s))
    return Performance(
        agents=agents,
        wait_probability=wait,
        service_level=level,
        asa_s=wait * aht_s / (agents - load),
        occupancy=load / agents if agents else 0.0,
    )


def _achieved(
    agents: int, *, load: float, aht_s: float, within_s: float | None, patience_s: float | None
) -> Performance:
    if patience_s is None:
        return performance(agents, load=load, aht_s=aht_s, within_s=within_s)
    figures = erlang_a(
        agents,
        arrivals_per_s=load / aht_s,
        aht_s=aht_s,
        patience_s=patience_s,
        within_s=within_s,
    )
    return Performance(
        agents=agents,
        wait_probability=figures.wait_probability,
        service_level=figures.service_level,
        asa_s=figures.asa_s,
        occupancy=figures.occupancy,
        abandon_share=figures.abandon_share,
    )


def _meets(achieved: Performance, target: Target) -> bool:
    if target.share is not None:
        ok = achieved.service_level is not None and achieved.service_level >= target.share
    else:
        ok = target.max_asa_s is not None and achieved.asa_s <= target.max_asa_s
    if target.max_occupancy is not None:
        ok = ok and achieved.occupancy <= target.max_occupancy
    return ok


def agents_needed(
    *, load: float, aht_s: float, target: Target, patience_s: float | None = None
) -> Performance:
    """The fewest agents meeting ``target`` against ``load`` Erlangs, and what they achieve:
    Erlang C, or Erlang A when customers abandon after ``patience_s`` on average.

    Every figure improves with more agents, so the search doubles up from the load and then
    bisects: about 2·log2(N) evaluations.

    Raises:
        ValueError: a negative load or a non-positive handling time or patience.
    """
    if load < 0 or not math.isfinite(load):
        raise ValueError(f"the offered load must be a finite number ≥ 0, not {load}")
    if aht_s <= 0:
        raise ValueError(f"the average handling time must be positive, not {aht_s}")
    if patience_s is not None and patience_s <= 0:
        raise ValueError(f"the average patience must be positive, not {patience_s}")
    if load == 0:
        return Performance(0, 0.0, 1.0 if target.within_s is not None else None, 0.0, 0.0)

    def achieved(agents: int) -> Performance:
        return _achieved(
            agents, load=load, aht_s=aht_s, within_s=target.within_s, patience_s=patience_s
        )

    # Erlang C needs more agents than the load; with abandonment fewer can do
    low = 0 if patience_s is not None else max(0, math.floor(load))
    high = max(1, math.floor(load) + 1)
    while not _meets(achieved(high), target):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if middle > 0 and _meets(achieved(middle), target):
            high = middle
        else:
            low = middle
    return achieved(high)


@dataclass(frozen=True)
class IntervalStaffing:
    """One interval's requirement: agents to schedule (shrinkage included), agents on the
    queue, and what they achieve."""

    interval: str
    arrivals: float
    agents: int
    agents_on_queue: int
    service_level: float | None
    wait_probability: float
    asa_s: float
    occupancy: float
    abandon_share: float | None = None


def staff_intervals(
    arrivals: list[tuple[str, float]],
    *,
    interval_s: float,
    aht_s: float,
    target: Target,
    shrinkage: float = 0.0,
    patience_s: float | None = None,
) -> list[IntervalStaffing]:
    """Agents per interval for ``arrivals`` (label, count) under ``target``; Erlang A when
    ``patience_s`` (the customers' average patience) is given, else Erlang C.

    Raises:
        ValueError: shrinkage outside [0, 1), a non-positive interval, negative arrivals.
    """
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be in [0, 1), not {shrinkage}")
    if interval_s <= 0:
        raise ValueError(f"the interval must be positive, not {interval_s} s")
    plan = []
    for label, count in arrivals:
        if count < 0:
            raise ValueError(f"interval {label}: arrivals cannot be negative ({count})")
        achieved = agents_needed(
            load=count * aht_s / interval_s, aht_s=aht_s, target=target, patience_s=patience_s
        )
        plan.append(
            IntervalStaffing(
                interval=label,
                arrivals=count,
                agents=math.ceil(achieved.agents / (1 - shrinkage)),
                agents_on_queue=achieved.agents,
                service_level=achieved.service_level,
                wait_probability=achieved.wait_probability,
                asa_s=achieved.asa_s,
                occupancy=achieved.occupancy,
                abandon_share=achieved.abandon_share,
            )
        )
    return plan


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def arrivals_by_week_slot(
    con: object, *, timezone: str, interval_minutes: float
) -> list[tuple[str, float]]:
    """Average tickets created per slot of the week (``Mon 09:00`` ...) in a loaded log.

    A ticket arrives at its first event; the average is over the weeks the log spans, so a
    quiet week counts as zero rather than being skipped. Slots with no arrival at all are
    listed too: a forecast names every interval of the week.

    Raises:
        ValueError: an interval that does not divide a day into whole slots.
    """
    minutes = int(interval_minutes)
    if minutes != interval_minutes or minutes <= 0 or 1440 % minutes:
        raise ValueError(
            f"the interval must divide a day into whole minutes, not {interval_minutes}"
        )
    local = "timezone(?, make_timestamptz(created))"
    rows = con.execute(  # type: ignore[attr-defined]
        f"""
        WITH t AS (SELECT min(ts) AS created FROM events GROUP BY case_id),
             span AS (SELECT greatest(1, ceil((max(created) - min(created)) / 604800e6)) AS weeks
                      FROM t)
        SELECT (isodow({local}) - 1) * 1440
                 + (hour({local}) * 60 + minute({local})) // {minutes} * {minutes} AS slot,
               count(*) / any_value(span.weeks) AS mean
        FROM t, span GROUP BY slot ORDER BY slot
        """,
        [timezone, timezone, timezone],
    ).fetchall()
    means = {int(slot): float(mean) for slot, mean in rows}
    return [
        (f"{WEEKDAYS[slot // 1440]} {slot % 1440 // 60:02d}:{slot % 60:02d}", means.get(slot, 0.0))
        for slot in range(0, 7 * 1440, minutes)
    ]
