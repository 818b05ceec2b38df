"""Replications of a scenario, its KPIs with confidence intervals, and baseline against what-if.

Each replication is one :func:`~supportflow.simulate.engine.simulate` run with its own seed.
Seeds come from one ``SeedSequence(seed)``, so results depend only on ``seed`` and the number of
replications, never on how many worker processes ran them. The baseline and the what-if use the
*same* seeds (common random numbers), so their difference is measured with less noise than two
independent experiments would give.

The KPIs of a run (all durations in seconds, wall clock):

- ``tickets``: tickets that arrived;
- ``abandon_rate``: the share that gave up before a first answer;
- ``asa_s``: mean queue wait of the first work step (the average speed of answer);
- ``queue_wait_s``: mean queue wait of every work step that got an agent;
- ``first_response_mean_s`` / ``_p90_s``: arrival to the first work step's completion, answered
  tickets;
- ``first_response_within_target``: the share of tickets answered within
  ``targets.first_response`` (abandoned tickets count as missed; tickets whose path needs no
  agent are not counted), counted on the desk's open hours (an SLA clock) unless
  ``targets.clock`` is ``wall``;
- ``resolution_mean_s`` / ``_median_s`` / ``_p90_s``: arrival to the first resolving event (the
  scenario's status map) or to the last event without one;
- ``resolution_within_target``: the share resolved within ``targets.resolution``;
- ``case_duration_median_s``: arrival to the ticket's last event;
- ``utilisation``: agents' busy time over their time on shift in slots (an agent who may hold
  three chats offers three slot-seconds a second); work finished after a shift ends is busy
  time but not time on shift, so much overtime can take it above 1.

By hour of arrival (``hourly``, for the peak story): arrivals, first-response attainment and the
mean first wait, averaged over replications.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from supportflow.simulate.clock import BusinessClock
from supportflow.simulate.desk import estimate
from supportflow.simulate.engine import simulate
from supportflow.simulate.scenario import Scenario

KPI_NAMES = (
    "tickets",
    "abandon_rate",
    "asa_s",
    "queue_wait_s",
    "first_response_mean_s",
    "first_response_p90_s",
    "first_response_within_target",
    "resolution_mean_s",
    "resolution_median_s",
    "resolution_p90_s",
    "resolution_within_target",
    "case_duration_median_s",
    "utilisation",
)


SHARES = frozenset(
    {"abandon_rate", "first_response_within_target", "resolution_within_target", "utilisation"}
)


@dataclass
class RunKpis:
    """One replication's KPIs and its hourly table (hours from the start)."""

    seed: int
    kpis: dict[str, float]
    hourly_arrivals: list[int] = field(default_factory=list)
    hourly_met: list[int] = field(default_factory=list)
    hourly_wait_s: list[float] = field(default_factory=list)
    hourly_answerable: list[int] = field(default_factory=list)
    """Tickets that needed an answer (a work step), abandoned ones included."""
    hourly_waited: list[int] = field(default_factory=list)
    """Tickets with a first queue wait (they reached a work step)."""
    events: int = 0
    seconds: float = 0.0


def _nan_stat(values: np.ndarray, how: str) -> float:
    values = values[~np.isnan(values)]
    if not values.size:
        return math.nan
    if how == "mean":
        return float(values.mean())
    return float(np.quantile(values, {"median": 0.5, "p90": 0.9}[how]))


def run_kpis(scenario: Scenario, seed: int, cases: int | None = None) -> RunKpis:
    """Simulate once and measure (module docstring)."""
    import time

    began = time.perf_counter()
    log = simulate(scenario, seed=seed, cases=cases)
    took = time.perf_counter() - began
    n = len(log.arrival_s)
    first = log.first_response_s
    resolution = log.resolution_s
    targets = scenario.targets
    fr_target, res_target = targets.first_response, targets.resolution
    if targets.clock == "business" and n:
        clock = BusinessClock(
            scenario.open_hours, float(log.arrival_s.min()), float(np.nanmax(log.end_s))
        )
        first_sla = clock.elapsed(log.arrival_s, log.arrival_s + first)
        resolution_sla = clock.elapsed(log.arrival_s, log.arrival_s + resolution)
    else:
        first_sla, resolution_sla = first, resolution
    met = (first_sla <= fr_target) if fr_target is not None else np.zeros(n, dtype=bool)
    # a ticket whose path needs no agent waits for no answer: it is not counted either way
    needs_answer = ~np.isnan(first) | log.abandoned
    waited = ~np.isnan(log.first_wait_s)
    on_shift = float(log.on_shift_s.sum())
    kpis = {
        "tickets": float(n),
        "abandon_rate": float(log.abandoned.mean()) if n else math.nan,
        "asa_s": _nan_stat(log.first_wait_s, "mean"),
        "queue_wait_s": float(log.waits_s.mean()) if log.waits_s.size else math.nan,
        "first_response_mean_s": _nan_stat(first, "mean"),
        "first_response_p90_s": _nan_stat(first, "p90"),
        "first_response_within_target": (
            float(met[needs_answer].mean()) if fr_target and needs_answer.any() else math.nan
        ),
        "resolution_mean_s": _nan_stat(resolution, "mean"),
        "resolution_median_s": _nan_stat(resolution, "median"),
        "resolution_p90_s": _nan_stat(resolution, "p90"),
        "resolution_within_target": (
            float(np.mean(resolution_sla <= res_target)) if res_target and n else math.nan
        ),
        "case_duration_median_s": _nan_stat(log.end_s - log.arrival_s, "median"),
        "utilisation": float(log.busy_s.sum() / on_shift) if on_shift > 0 else math.nan,
    }
    start = scenario.start_s
    hour = np.floor((log.arrival_s - start) / 3600).astype(np.int64)
    hours = int(hour.max()) + 1 if n else 0
    waits = np.nan_to_num(log.first_wait_s, nan=0.0)
    met = met & needs_answer
    return RunKpis(
        seed=seed,
        kpis=kpis,
        hourly_arrivals=np.bincount(hour, minlength=hours).tolist(),
        hourly_met=np.bincount(hour, weights=met.astype(float), minlength=hours)
        .astype(int)
        .tolist(),
        hourly_wait_s=np.bincount(hour, weights=waits, minlength=hours).tolist(),
        hourly_answerable=np.bincount(hour, weights=needs_answer.astype(float), minlength=hours)
        .astype(int)
        .tolist(),
        hourly_waited=np.bincount(hour, weights=waited.astype(float), minlength=hours)
        .astype(int)
        .tolist(),
        events=log.events_processed,
        seconds=took,
    )


def seeds_for(seed: int, replications: int) -> list[int]:
    """The replications' seeds: a function of ``seed`` and the replication number only."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def replicate_scenario(
    scenario: Scenario, *, replications: int, seed: int, workers: int = 1
) -> list[RunKpis]:
    """``replications`` runs of ``scenario``, on ``workers`` processes."""
    seeds = seeds_for(seed, replications)
    if workers <= 1 or replications == 1:
        return [run_kpis(scenario, s) for s in seeds]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_kpis, [scenario] * replications, seeds))


def summarise(runs: list[RunKpis]) -> dict[str, dict[str, float | None]]:
    """Per KPI: mean and 95 % interval over the runs (``None`` where a KPI is undefined)."""
    out: dict[str, dict[str, float | None]] = {}
    for name in KPI_NAMES:
        values = [r.kpis[name] for r in runs if not math.isnan(r.kpis[name])]
        if not values:
            out[name] = {"mean": None, "ci_low": None, "ci_high": None}
            continue
        est = estimate(values)
        low, high = est.ci_low, est.ci_high
        if name in SHARES:  # a share's interval stays within [0, 1], a duration's above 0
            low, high = max(low, 0.0), min(high, 1.0)
        elif name.endswith("_s") or name == "tickets":
            low = max(low, 0.0)
        out[name] = {"mean": est.mean, "ci_low": low, "ci_high": high}
    return out


def hourly(runs: list[RunKpis], scenario: Scenario) -> list[dict[str, Any]]:
    """Per hour from the start: whether the desk is open, mean arrivals, first-response
    attainment and first wait."""
    hours = max((len(r.hourly_arrivals) for r in runs), default=0)

    def padded(values: list[Any]) -> np.ndarray:
        return np.pad(np.asarray(values, dtype=float), (0, hours - len(values)))

    arrivals = sum((padded(r.hourly_arrivals) for r in runs), np.zeros(hours))
    met = sum((padded(r.hourly_met) for r in runs), np.zeros(hours))
    waits = sum((padded(r.hourly_wait_s) for r in runs), np.zeros(hours))
    answerable = sum((padded(r.hourly_answerable) for r in runs), np.zeros(hours))
    waited = sum((padded(r.hourly_waited) for r in runs), np.zeros(hours))
    rows = []
    start = scenario.start_s
    clock = BusinessClock(scenario.open_hours, start - 86400, start + 3600 * hours + 86400)
    for h in range(hours):
        count = arrivals[h]
        rows.append(
            {
                "hour_start_s": start + 3600 * h,
                "open": bool(clock.is_open(start + 3600 * h + 1800.0)),
                "arrivals": count / len(runs),
                "first_response_within_target": (
                    (met[h] / answerable[h])
                    if answerable[h] and scenario.targets.first_response
                    else None
                ),
                "asa_s": (waits[h] / waited[h]) if waited[h] else None,
            }
        )
    return rows


def breaks_sla(row: dict[str, Any], attainment: float) -> bool:
    """Whether an hour of :func:`hourly` breaks the SLA: the desk is open then (a closed hour's
    tickets wait for it to open; staffing it would change nothing), at least one ticket arrives
    in it on average, and fewer than ``attainment`` of them are answered within the target."""
    share = row.get("first_response_within_target")
    return (
        row.get("open", True) is not False
        and row.get("arrivals", 0) >= 1
        and share is not None
        and share == share  # not NaN
        and share < attainment
    )


@dataclass
class Comparison:
    """Baseline against what-if: the JSON document of ``simulate run``."""

    replications: int
    seed: int
    kpis: dict[str, dict[str, dict[str, float | None]]]
    hourly_baseline: list[dict[str, Any]]
    hourly_scenario: list[dict[str, Any]] | None
    performance: dict[str, float]
    what_if_runs: list[RunKpis] = field(default_factory=list)
    """The what-if's replications (not in the JSON), for the peak plan."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("what_if_runs")
        return {"schema_version": "1.0", **data}


def compare(
    baseline: Scenario,
    what_if: Scenario | None,
    *,
    replications: int,
    seed: int,
    workers: int = 1,
) -> Comparison:
    """Run the baseline (and the what-if, with the same seeds) and put the KPIs side by side:
    per KPI ``{baseline: {mean, ci_low, ci_high}, scenario: {...}}``."""
    base_runs = replicate_scenario(baseline, replications=replications, seed=seed, workers=workers)
    base = summarise(base_runs)
    kpis: dict[str, dict[str, dict[str, float | None]]] = {
        k: {"baseline": v} for k, v in base.items()
    }
    scenario_rows = None
    runs = list(base_runs)
    what_runs: list[RunKpis] = []
    if what_if is not None:
        what_runs = replicate_scenario(
            what_if, replications=replications, seed=seed, workers=workers
        )
        for name, value in summarise(what_runs).items():
            kpis[name]["scenario"] = value
        scenario_rows = hourly(what_runs, what_if)
        runs += what_runs
    events = sum(r.events for r in runs)
    seconds = sum(r.seconds for r in runs)
    return Comparison(
        replications=replications,
        seed=seed,
        kpis=kpis,
        hourly_baseline=hourly(base_runs, baseline),
        hourly_scenario=scenario_rows,
        what_if_runs=what_runs,
        performance={
            "runs": float(len(runs)),
            "events": float(events),
            "compute_seconds": seconds,
            "events_per_s": events / seconds if seconds > 0 else math.nan,
        },
    )
