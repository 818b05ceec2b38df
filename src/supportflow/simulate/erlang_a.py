"""Erlang A: the service desk where customers give up (M/M/N+M, Palm's queue).

Real customers do not wait forever. With patience drawn from an exponential distribution of
mean ``patience_s`` (abandonment rate ``θ = 1 / patience_s``), the number of customers in the
system is a birth-death chain: arrivals at rate ``λ``; departures at ``min(k, N)·μ`` from
service plus ``max(k − N, 0)·θ`` from the queue. Its stationary distribution ``π`` gives, by
PASTA (arrivals see time averages):

- the probability of waiting ``Σ_{k ≥ N} π_k``;
- the share who abandon ``θ·E[Q] / λ``, ``E[Q] = Σ_{k > N} (k − N)·π_k``;
- the average wait of all arrivals ``E[Q] / λ`` (Little's law on the queue).

The service level, the share of arrivals *answered* within ``t``, needs the wait itself: a
customer arriving with ``m`` customers ahead moves up at rate ``N·μ + i·θ`` while ``i`` are
ahead, and gives up at rate ``θ``. The probability of reaching an agent before ``t`` is computed
for every ``m`` at once by uniformization (a Poisson mixture of a discrete chain), which is
exact up to the truncation, stated below.

The chain is solved in log space and truncated where its probabilities fall below 1e-16, so
hundreds of agents stay finite. Without abandonment (``patience_s`` → ∞) the figures tend to
Erlang C's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import poisson

_TAIL = 1e-16


@dataclass(frozen=True)
class ErlangAPerformance:
    """What ``agents`` achieve when customers abandon."""

    agents: int
    wait_probability: float
    abandon_share: float
    service_level: float | None
    asa_s: float
    occupancy: float


def _stationary(
    agents: int, arrival_rate: float, service_rate: float, abandon_rate: float
) -> np.ndarray:
    """π over 0..K customers, K where the tail becomes negligible."""
    log_terms = [0.0]
    k = 0
    while True:
        k += 1
        death = min(k, agents) * service_rate + max(k - agents, 0) * abandon_rate
        log_terms.append(log_terms[-1] + math.log(arrival_rate) - math.log(death))
        # past the mode the terms fall; stop once they are negligible against the largest
        if k > agents and log_terms[-1] < max(log_terms) + math.log(_TAIL):
            break
        if k > agents + 200_000:
            raise ValueError("the queue does not settle: add agents or shorten patience")
    logs = np.array(log_terms)
    weights: npt.NDArray[np.float64] = np.exp(logs - logs.max())
    return weights / float(weights.sum())


def _answered_within(
    ahead: int, agents: int, service_rate: float, abandon_rate: float, within_s: float
) -> npt.NDArray[np.float64]:
    """For m = 0..ahead customers ahead: P(reaching an agent within ``within_s``)."""
    stages = np.arange(ahead + 1)
    forward = agents * service_rate + stages * abandon_rate  # moving up one place
    total = forward + abandon_rate  # or giving up
    rate = float(total.max())
    if rate * within_s == 0:
        return np.zeros(ahead + 1)
    p_forward = forward / rate
    p_stay = 1.0 - total / rate
    horizon = rate * within_s
    jumps = int(poisson.ppf(1 - 1e-14, horizon)) + 1
    weights = poisson.pmf(np.arange(jumps + 1), horizon)
    reached: npt.NDArray[np.float64] = np.zeros(ahead + 1)  # P(answered in k jumps | m ahead)
    answered: npt.NDArray[np.float64] = weights[0] * reached
    for k in range(1, jumps + 1):
        before = np.concatenate(([1.0], reached[:-1]))  # m ahead → m − 1 ahead; 0 → answered
        reached = p_forward * before + p_stay * reached
        answered = answered + weights[k] * reached
    return answered


def erlang_a(
    agents: int, *, arrivals_per_s: float, aht_s: float, patience_s: float, within_s: float | None
) -> ErlangAPerformance:
    """Erlang A figures for ``agents``.

    Raises:
        ValueError: non-positive handling time or patience, negative arrivals.
    """
    if aht_s <= 0 or patience_s <= 0:
        raise ValueError("handling time and patience must be positive")
    if arrivals_per_s < 0:
        raise ValueError("arrivals cannot be negative")
    if arrivals_per_s == 0:
        return ErlangAPerformance(agents, 0.0, 0.0, 1.0 if within_s is not None else None, 0.0, 0.0)
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    pi = _stationary(agents, arrivals_per_s, mu, theta)
    k = np.arange(len(pi))
    wait = float(pi[agents:].sum()) if agents < len(pi) else 0.0
    queue = float((np.maximum(k - agents, 0) * pi).sum())
    busy = float((np.minimum(k, agents) * pi).sum())
    level = None
    if within_s is not None:
        level = float(pi[:agents].sum())
        if agents < len(pi):
            ahead = len(pi) - agents - 1
            level += float(
                (pi[agents:] * _answered_within(ahead, agents, mu, theta, within_s)).sum()
            )
    return ErlangAPerformance(
        agents=agents,
        wait_probability=wait,
        abandon_share=theta * queue / arrivals_per_s,
        service_level=level,
        asa_s=queue / arrivals_per_s,
        occupancy=busy / agents if agents else 0.0,
    )
