"""The peak story: which hours of a what-if break the SLA, and how many agents per hour fix it.

1. **Broken hours**: in the what-if's replications, the open hours (from the scenario's start)
   whose tickets met the first-response target less often than ``targets.attainment`` requires
   (a closed hour cannot be fixed by staffing it: its tickets wait for the desk to open).
2. **Agents needed**: for each broken hour, Erlang C (:func:`~.staffing.agents_needed`) with
   that hour's mean arrivals, the first-answer team's work per ticket as the handling time (the
   mean service of every work step that team does, weighted by how often tickets reach it), and
   the target "``attainment`` answered within the first-response target, less the first step's
   mean service". Agents already scheduled in the hour count as their concurrency slots.
3. **The fix, checked by simulation**: the extra agents become temporary groups
   (``available_from``/``available_until`` = the hour) that speak every language and serve every
   channel; the what-if is run again with the same seeds and the hours are re-measured.

Erlang C assumes a steady hour; a peak that builds a backlog needs more than its own hour's
agents, which the re-run shows. :func:`plan_peak` therefore repeats step 2 on the hours the fix
still leaves broken (adding one agent at a time there), up to ``rounds`` times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from supportflow.simulate.distributions import mean
from supportflow.simulate.experiment import RunKpis, breaks_sla, hourly, replicate_scenario
from supportflow.simulate.scenario import AgentGroup, Scenario
from supportflow.simulate.staffing import Target, agents_needed


@dataclass
class HourPlan:
    """One broken hour: what it needs and whether the fix holds."""

    hour_start_s: float
    arrivals: float
    attainment: float
    agents_scheduled: int
    agents_needed: int
    extra_agents: int
    service_level: float | None
    attainment_fixed: float | None = None


def first_answer_team(scenario: Scenario) -> tuple[str | None, float, float]:
    """The team that answers first, its work per ticket (s) and the first step's mean service
    (s), from the variants' weights."""
    total = sum(v.weight for v in scenario.variants)
    first_team: dict[str | None, float] = {}
    first_service = 0.0
    for variant in scenario.variants:
        share = variant.weight / total
        for step in variant.path:
            activity = scenario.activities[step]
            if activity.kind == "work" and activity.service is not None:
                first_team[activity.team] = first_team.get(activity.team, 0.0) + share
                first_service += share * mean(activity.service) * activity.time_factor
                break
    team = max(first_team, key=lambda t: first_team[t]) if first_team else None
    work = 0.0
    for variant in scenario.variants:
        share = variant.weight / total
        for step in variant.path:
            activity = scenario.activities[step]
            if activity.kind == "work" and activity.team == team and activity.service is not None:
                work += share * mean(activity.service) * activity.time_factor
    return team, work, first_service


def scheduled_slots(scenario: Scenario, team: str | None, hour_start_s: float) -> int:
    """Agent slots (agents × concurrency) of ``team`` on shift in the middle of the hour."""
    from supportflow.simulate.clock import BusinessClock

    middle = hour_start_s + 1800.0
    slots = 0
    for group in scenario.agents:
        if team is not None and group.team != team:
            continue
        begin = scenario.instant(group.available_from, -math.inf)
        until = scenario.instant(group.available_until, math.inf)
        if not begin <= middle < until:
            continue
        hours = scenario.open_hours if group.shift is None else scenario.shifts[group.shift].hours
        if BusinessClock(hours, middle - 86400, middle + 86400).is_open(middle):
            slots += group.count * group.concurrency
    return slots


def broken_hours(scenario: Scenario, runs: list[RunKpis]) -> list[dict[str, Any]]:
    """The hours of :func:`~.experiment.hourly` that break the SLA
    (:func:`~.experiment.breaks_sla`: open, with tickets, below the target)."""
    goal = scenario.targets.attainment
    return [row for row in hourly(runs, scenario) if breaks_sla(row, goal)]


def _fix(scenario: Scenario, extra: dict[float, int], team: str | None) -> Scenario:
    groups = list(scenario.agents)
    for hour, count in sorted(extra.items()):
        if count <= 0:
            continue
        begin = datetime.fromtimestamp(hour, tz=UTC)
        groups.append(
            AgentGroup(
                name=f"peak {begin:%Y-%m-%d %H:%M}Z",
                team=team or groups[0].team,
                count=count,
                skills=sorted({s for g in scenario.agents if g.team == team for s in g.skills}),
                available_from=begin,
                available_until=datetime.fromtimestamp(hour + 3600, tz=UTC),
            )
        )
    return scenario.model_copy(update={"agents": groups})


def plan_peak(
    what_if: Scenario,
    runs: list[RunKpis],
    *,
    replications: int,
    seed: int,
    workers: int = 1,
    rounds: int = 3,
) -> tuple[list[HourPlan], Scenario]:
    """The broken hours of ``what_if`` (from its ``runs``), the agents that fix them, and the
    scenario with those agents added (checked by re-running it)."""
    target = what_if.targets.first_response
    if target is None:
        raise ValueError("the scenario has no first-response target (targets.first_response)")
    team, work_s, first_s = first_answer_team(what_if.effective())
    if work_s <= 0:
        raise ValueError("no work step with a service time: nothing to staff")
    goal = Target(share=what_if.targets.attainment, within_s=max(target - first_s, 1.0))
    broken = broken_hours(what_if, runs)
    plans: dict[float, HourPlan] = {}
    extra: dict[float, int] = {}
    for row in broken:
        hour = float(row["hour_start_s"])
        load = row["arrivals"] * work_s / 3600.0
        need = agents_needed(load=load, aht_s=work_s, target=goal)
        have = scheduled_slots(what_if, team, hour)
        extra[hour] = max(need.agents - have, 1)
        plans[hour] = HourPlan(
            hour_start_s=hour,
            arrivals=float(row["arrivals"]),
            attainment=float(row["first_response_within_target"]),
            agents_scheduled=have,
            agents_needed=need.agents,
            extra_agents=extra[hour],
            service_level=need.service_level,
        )
    fixed = _fix(what_if, extra, team)
    for round_ in range(rounds + 1):
        if not extra:
            break
        again = replicate_scenario(fixed, replications=replications, seed=seed, workers=workers)
        rows = {float(r["hour_start_s"]): r for r in hourly(again, fixed)}
        for hour, plan in plans.items():
            measured = rows.get(hour)
            plan.attainment_fixed = (
                None if measured is None else measured["first_response_within_target"]
            )
        still = [h for h in plans if _below(rows.get(h), what_if.targets.attainment)]
        if not still or round_ == rounds:
            break
        for hour in still:
            extra[hour] += 1
            plans[hour].extra_agents = extra[hour]
        fixed = _fix(what_if, extra, team)
    return sorted(plans.values(), key=lambda p: p.hour_start_s), fixed


def _below(row: dict[str, Any] | None, goal: float) -> bool:
    if row is None or row["first_response_within_target"] is None:
        return False
    return bool(row["first_response_within_target"] < goal)
