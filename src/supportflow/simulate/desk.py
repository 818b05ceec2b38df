"""A service desk in SimPy: tickets arrive, wait for an agent, are handled, or give up.

This is the smallest honest model of a desk, the one queueing theory can check: arrivals are a
Poisson process, ``agents`` identical agents serve first come first served, handling times are
exponential (or any sampler), and customers may abandon after an exponential patience. Each run
records every ticket (arrival, start, end, abandoned) and summarises the waits; the same
figures Erlang C and Erlang A predict, so the simulator can be trusted before it grows skills,
languages, shifts and routing.

Randomness comes from a seeded ``numpy`` generator per replication; replications get their
seeds from one ``SeedSequence``, so the same seed gives the same results whatever the number of
worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy


@dataclass(frozen=True)
class DeskModel:
    """What one run simulates: rates in tickets per second, times in seconds."""

    agents: int
    arrivals_per_s: float
    aht_s: float
    patience_s: float | None = None
    tickets: int = 20_000
    warmup_tickets: int = 1_000
    within_s: float = 20.0


@dataclass(frozen=True)
class RunResult:
    """One replication's figures (tickets after the warm-up only)."""

    seed: int
    tickets: int
    wait_probability: float
    mean_wait_s: float
    service_level: float
    abandon_share: float
    mean_in_system: float
    """Time-average number of tickets in the desk (Little's law: = throughput × sojourn)."""
    mean_sojourn_s: float
    throughput_per_s: float


def _run(model: DeskModel, seed: int) -> RunResult:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=model.agents)
    total = model.tickets + model.warmup_tickets
    arrivals = np.cumsum(rng.exponential(1 / model.arrivals_per_s, total))
    handling = rng.exponential(model.aht_s, total)
    patience = (
        rng.exponential(model.patience_s, total)
        if model.patience_s is not None
        else np.full(total, math.inf)
    )
    start = np.full(total, np.nan)
    end = np.full(total, np.nan)

    def ticket(i: int) -> Generator[simpy.events.Event, Any, None]:
        with agents.request() as request:
            outcome = yield request | env.timeout(patience[i])
            if request not in outcome:
                end[i] = env.now  # gave up
                return
            start[i] = env.now
            yield env.timeout(handling[i])
            end[i] = env.now

    def source() -> Generator[simpy.events.Event, Any, None]:
        for i in range(total):
            yield env.timeout(arrivals[i] - env.now)
            env.process(ticket(i))

    env.process(source())
    env.run()
    kept = slice(model.warmup_tickets, total)
    arrived, began, left = arrivals[kept], start[kept], end[kept]
    served = ~np.isnan(began)
    waits = np.where(served, began - arrived, left - arrived)
    sojourn = left - arrived
    # The time-average number in the desk over the window of the kept arrivals, measured on the
    # timeline (every ticket's stay clipped to the window, warm-up tickets included), so that
    # Little's law L = λ·W is a check, not an identity.
    first, last = float(arrived.min()), float(arrived.max())
    span = last - first
    overlap = np.clip(np.minimum(end, last) - np.maximum(arrivals, first), 0, None)
    return RunResult(
        seed=seed,
        tickets=int(arrived.size),
        wait_probability=float(np.mean(waits > 1e-9)),
        mean_wait_s=float(waits.mean()),
        service_level=float(np.mean(served & (waits <= model.within_s))),
        abandon_share=float(np.mean(~served)),
        mean_in_system=float(overlap.sum() / span),
        mean_sojourn_s=float(sojourn.mean()),
        throughput_per_s=float(arrived.size / span),
    )


def replicate(
    model: DeskModel, *, replications: int, seed: int, workers: int = 1
) -> list[RunResult]:
    """``replications`` independent runs; each gets its own seed from ``seed``.

    The seeds depend only on ``seed`` and the replication's number, so results are the same for
    any ``workers``.
    """
    children = np.random.SeedSequence(seed).spawn(replications)
    seeds = [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]
    if workers <= 1:
        return [_run(model, s) for s in seeds]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_run, [model] * replications, seeds))


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95 % confidence interval (Student's t)."""

    mean: float
    ci_low: float
    ci_high: float


def estimate(values: list[float]) -> Estimate:
    """The mean of ``values`` and its 95 % t interval."""
    from scipy.stats import t as student

    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if array.size < 2:
        return Estimate(mean, mean, mean)
    half = float(student.ppf(0.975, array.size - 1) * array.std(ddof=1) / math.sqrt(array.size))
    return Estimate(mean, mean - half, mean + half)
