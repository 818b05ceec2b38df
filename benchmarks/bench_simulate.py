"""Speed of the desk simulation: a year of a 100-agent desk (about 1M tickets) per replication.

The issue's target: one replication of a year in at most 60 s on one core. The desk: open around
the clock, three shifts (40 early, 35 late, 25 night: 100 agents in all, 12 of them on a second-line
team), e-mail and chat (chat agents take three at once) in English and German, first reply,
resolution, a wait on the customer for a quarter of the tickets and an escalation for a tenth;
about 2,740 tickets a day (a million a year), agents about 60 % busy.

    .venv/bin/python benchmarks/bench_simulate.py                 # a year, one replication
    .venv/bin/python benchmarks/bench_simulate.py --weeks 4 --profile   # where the time goes

Prints tickets, log events and SimPy events per second, and with ``--profile`` the functions that
take the most time (cProfile, on the shorter run). Results go to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import sys
import time
from typing import Any

import simpy

from supportflow.simulate.engine import simulate
from supportflow.simulate.scenario import Scenario

# fmt: off
DAY = [34, 23, 17, 14, 14, 17, 46, 103, 171, 217, 228, 228,
       217, 205, 217, 217, 205, 182, 160, 137, 114, 91, 68, 46]
"""Tickets per hour, 00:00 to 23:00: 3,190 a weekday; with weekends, a million a year."""
# fmt: on
WEEKEND = [round(x * 0.75) for x in DAY]


def hundred_agent_desk(weeks: float) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "100-agent desk",
            "zone": "Europe/Berlin",
            "start": "2025-01-06T00:00:00",
            "duration": f"{weeks * 7}d",
            "open_hours": {"zone": "Europe/Berlin", "weekly": "24x7"},
            "shifts": {
                "early": {"hours": {"zone": "Europe/Berlin", "weekly": {"mon-sun": "06:00-14:00"}}},
                "late": {"hours": {"zone": "Europe/Berlin", "weekly": {"mon-sun": "14:00-22:00"}}},
                "night": {
                    "hours": {
                        "zone": "Europe/Berlin",
                        "weekly": {"mon-sun": "00:00-06:00,22:00-24:00"},
                    }
                },
            },
            "arrivals": {"weekly": {"mon-fri": DAY, "sat-sun": WEEKEND}},
            "mix": [
                {"weight": 45, "channel": "email", "language": "en", "priority": "normal"},
                {"weight": 10, "channel": "email", "language": "en", "priority": "high"},
                {"weight": 15, "channel": "email", "language": "de", "priority": "normal"},
                {"weight": 30, "channel": "chat", "language": "en", "priority": "normal"},
            ],
            "variants": [
                {"weight": 65, "path": ["Created", "First reply", "Resolved", "Closed"]},
                {"weight": 25, "path": ["Created", "First reply", "Waiting", "Resolved", "Closed"]},
                {
                    "weight": 10,
                    "path": ["Created", "First reply", "Escalated", "Resolved", "Closed"],
                },
            ],
            "activities": {
                "Created": {"kind": "wait"},
                "First reply": {
                    "team": "L1",
                    "service": {"dist": "lognormal", "mean": "5m", "sd": "3m"},
                },
                "Waiting": {"kind": "wait"},
                "Escalated": {
                    "team": "L2",
                    "service": {"dist": "gamma", "mean": "20m", "sd": "10m"},
                },
                "Resolved": {
                    "team": "L1",
                    "service": {"dist": "lognormal", "mean": "6m", "sd": "4m"},
                },
                "Closed": {"kind": "wait"},
            },
            "delays": {
                "First reply -> Resolved": {
                    "clock": "wall",
                    "time": {"dist": "exponential", "mean": "30m"},
                },
                "Waiting -> Resolved": {
                    "clock": "wall",
                    "time": {"dist": "lognormal", "mean": "8h", "sd": "8h"},
                },
                "Escalated -> Resolved": {
                    "clock": "wall",
                    "time": {"dist": "exponential", "mean": "1h"},
                },
                "Resolved -> Closed": {"clock": "wall", "time": {"dist": "fixed", "value": "3d"}},
            },
            "agents": [
                {
                    "name": "early",
                    "team": "L1",
                    "count": 30,
                    "languages": ["en", "de"],
                    "shift": "early",
                },
                {
                    "name": "early chat",
                    "team": "L1",
                    "count": 5,
                    "channels": ["chat"],
                    "languages": ["en"],
                    "concurrency": 3,
                    "shift": "early",
                },
                {"name": "early L2", "team": "L2", "count": 5, "shift": "early"},
                {
                    "name": "late",
                    "team": "L1",
                    "count": 26,
                    "languages": ["en", "de"],
                    "shift": "late",
                },
                {
                    "name": "late chat",
                    "team": "L1",
                    "count": 5,
                    "channels": ["chat"],
                    "languages": ["en"],
                    "concurrency": 3,
                    "shift": "late",
                },
                {"name": "late L2", "team": "L2", "count": 4, "shift": "late"},
                {
                    "name": "night",
                    "team": "L1",
                    "count": 22,
                    "languages": ["en", "de"],
                    "shift": "night",
                },
                {"name": "night L2", "team": "L2", "count": 3, "shift": "night"},
            ],
            "routing": {"policy": "priority", "language_match": "required"},
            "abandonment": {
                "patience": {"dist": "exponential", "mean": "15m"},
                "channels": ["chat"],
            },
            "targets": {"first_response": "1h", "resolution": "1d", "clock": "wall"},
        }
    )


def run(weeks: float, seed: int) -> dict[str, Any]:
    scenario = hundred_agent_desk(weeks)
    counted: list[int] = []
    original_init = simpy.Environment.__init__

    def counting_init(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        counted.append(id(self))
        environments.append(self)

    environments: list[simpy.Environment] = []
    simpy.Environment.__init__ = counting_init  # type: ignore[method-assign]
    try:
        began = time.perf_counter()
        log = simulate(scenario, seed=seed)
        seconds = time.perf_counter() - began
    finally:
        simpy.Environment.__init__ = original_init  # type: ignore[method-assign]
    simpy_events = next(environments[0]._eid) if environments else 0
    tickets = len(log.arrival_s)
    return {
        "weeks": weeks,
        "agents": sum(g.count for g in scenario.agents),
        "tickets": tickets,
        "log_events": int(log.events_processed),
        "simpy_events": simpy_events,
        "seconds": round(seconds, 2),
        "tickets_per_s": round(tickets / seconds),
        "simpy_events_per_s": round(simpy_events / seconds),
        "utilisation": round(float(log.busy_s.sum() / log.on_shift_s.sum()), 3),
        "abandoned": round(float(log.abandoned.mean()), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "seconds_per_year": round(seconds * 52 / weeks, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=float, default=52.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the run")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        figures = run(args.weeks, args.seed)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    else:
        figures = run(args.weeks, args.seed)
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
