"""The service desk as a discrete-event model (SimPy): tickets, agents, shifts, routing.

One run takes a :class:`~supportflow.simulate.scenario.Scenario` and a seed and returns the
simulated event log, in the canonical shape the diagnosis reads, plus per-ticket facts:

1. **Arrivals** come from :mod:`supportflow.simulate.arrivals`: a non-homogeneous Poisson
   process by local hour of the week, or a replay of a log, scaled by peaks.
2. Each ticket draws its kind (channel, language, priority, type) from the mix, and a path from
   the variants whose ``when`` admits that kind.
3. Along the path, each step first waits its **delay** (drawn per transition, on the desk's
   business clock or the wall clock), then a ``work`` step asks the **router** for an agent:
   the same :class:`~supportflow.routing.Router` and queue the live service uses pick the agent,
   or queue the work until an eligible agent frees a slot or comes on shift. The agent is held
   for the **service time**. The event is recorded when the step completes.
4. A customer still waiting for the first answer after their **patience** abandons: the work
   leaves the queue and an ``Abandoned`` event ends the ticket.
5. **Shifts**: agents take new work only inside their shift's hours and finish what they hold
   when it ends.

Randomness comes from ``numpy`` generators seeded per run and per part of the model (arrivals,
mix, paths, each step's service, each transition's delay), so a seed gives the same log on any
machine and in any worker process.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pyarrow as pa
import simpy

from supportflow.routing import Agent, AgentPool, Router, RoutingQueue, WorkItem
from supportflow.rules.status import status_preset
from supportflow.simulate.arrivals import arrival_instants
from supportflow.simulate.clock import BusinessClock, OpenHours
from supportflow.simulate.distributions import sampler
from supportflow.simulate.scenario import ABANDONED, ARROW, AgentGroup, Scenario

_WEEK = 7 * 86400.0
_CLOCK_MARGIN_S = 400 * 86400.0
_STUCK_AFTER_S = 5 * 365 * 86400.0
"""A run whose tickets are not all done this long after the last arrival is stuck."""
"""How far past the last arrival business clocks are precomputed (long waits and timers)."""


@dataclass
class SimLog:
    """One run: the events (columnar), the tickets, and the agents' time."""

    activities: list[str]
    agent_names: list[str]
    agent_teams: list[str]
    case: np.ndarray
    activity: np.ndarray
    time_s: np.ndarray
    agent: np.ndarray
    arrival_s: np.ndarray
    kind: np.ndarray
    """Index into the scenario's ``mix`` per ticket."""
    first_wait_s: np.ndarray
    """Queue wait of the ticket's first work step (NaN without one)."""
    first_response_s: np.ndarray
    """Arrival to the completion of the first work step (NaN when abandoned or none)."""
    resolution_s: np.ndarray
    """Arrival to the resolving event: the first step mapped to ``resolved`` by the status map,
    else to ``closed``, else the last step (NaN when abandoned)."""
    end_s: np.ndarray
    abandoned: np.ndarray
    waits_s: np.ndarray
    """Queue wait of every work step that got an agent."""
    busy_s: np.ndarray
    on_shift_s: np.ndarray
    events_processed: int = 0
    mix: list[dict[str, str | None]] = field(default_factory=list)

    def to_arrow(self, *, case_prefix: str = "sim-") -> pa.Table:
        """The canonical event log: ``case_id, activity, timestamp, resource, team, channel,
        language, priority`` ordered by case and time."""
        order = np.lexsort((self.time_s, self.case))
        case = self.case[order]
        acts = np.asarray(self.activities, dtype=object)[self.activity[order]]
        names = np.asarray([*self.agent_names, None], dtype=object)
        teams = np.asarray([*self.agent_teams, None], dtype=object)
        agent = self.agent[order]
        kinds = self.kind[case]

        def attr(key: str) -> pa.Array:
            values = np.asarray([row.get(key) for row in self.mix], dtype=object)
            return pa.array(values[kinds], type=pa.string())

        return pa.table(
            {
                "case_id": pa.array(np.char.add(case_prefix, case.astype(str)), type=pa.string()),
                "activity": pa.array(acts, type=pa.string()),
                "timestamp": pa.array(
                    np.round(self.time_s[order] * 1e6).astype("int64"), type=pa.int64()
                ).cast(pa.timestamp("us", tz="UTC")),
                "resource": pa.array(names[agent], type=pa.string()),
                "team": pa.array(teams[agent], type=pa.string()),
                "channel": attr("channel"),
                "language": attr("language"),
                "priority": attr("priority"),
            }
        )


def _resolve_index(scenario: Scenario, path: list[str]) -> int:
    """Which step of ``path`` resolves the ticket: the first mapped to ``resolved`` by the
    scenario's status map, else the first mapped to ``closed``, else the last step."""
    if scenario.status_map is not None:
        status = (
            status_preset(scenario.status_map)
            if isinstance(scenario.status_map, str)
            else scenario.status_map
        )
        for wanted in ("resolved", "closed"):
            keys = {status.key(a) for a in getattr(status, wanted)}
            for index, step in enumerate(path):
                if status.key(step) in keys:
                    return index
    return len(path) - 1


def simulate(
    scenario: Scenario,
    *,
    seed: int,
    cases: int | None = None,
    start_s: float | None = None,
    arrivals: np.ndarray | None = None,
) -> SimLog:
    """Run ``scenario`` once. ``cases`` and ``start_s`` override the scenario's; ``arrivals``
    (epoch seconds) replays given arrival instants instead of drawing them."""
    model = scenario.effective()
    start = model.start_s if start_s is None else start_s
    if arrivals is None:
        wanted = cases if cases is not None else model.cases
        arrivals = arrival_instants(model, stream(seed, "arrivals"), cases=wanted, start_s=start)
    else:
        arrivals = np.sort(np.asarray(arrivals, dtype=float))
        if len(arrivals) and arrivals[0] < start:
            start = float(arrivals[0])
    return _Run(model, seed, arrivals, start).run()


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of one part of the model (arrivals, the mix, a step's service time,
    a transition's delay...). Separate streams keep a what-if's common random numbers: doubling
    the agents of one team does not shift the arrivals or the other steps' draws."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


class _Run:
    """The state of one run; ``run()`` builds the SimPy model and executes it."""

    def __init__(self, model: Scenario, seed: int, arrivals: np.ndarray, start_s: float) -> None:
        self.model = model
        self.seed = seed
        self.arrivals = arrivals
        self.env = simpy.Environment(initial_time=start_s)
        self.start_s = start_s
        horizon = (float(arrivals[-1]) if len(arrivals) else start_s) + _CLOCK_MARGIN_S
        self.horizon_s = horizon
        self.desk_clock = BusinessClock(model.open_hours, start_s - _WEEK, horizon)
        self.activity_names = [*model.activities, ABANDONED]
        self.code = {name: i for i, name in enumerate(model.activities)}
        self.abandoned_code = len(model.activities)
        self.router = Router(model.routing)
        self.queue = RoutingQueue(self.router)
        self.agents: list[Agent] = []
        self.agent_group: list[AgentGroup] = []
        for group in model.agents:
            for k in range(group.count):
                self.agents.append(
                    Agent(
                        id=len(self.agents),
                        name=f"{group.name}-{k + 1:02d}",
                        team=group.team,
                        skills=frozenset(group.skills),
                        languages=frozenset(group.languages),
                        channels=frozenset(group.channels),
                        concurrency=group.concurrency,
                        on_shift=False,
                    )
                )
                self.agent_group.append(group)
        self.pool = AgentPool(self.router)
        """Agents on shift with a free slot."""
        self.classified: dict[tuple[int, int], WorkItem] = {}
        self.overflow_after = self.router.overflow_after_s
        self.simple_routing = self.overflow_after is None
        """Without overflow a ticket's waiting time does not change who may take it."""
        self.waiting: dict[int, simpy.Event] = {}
        self.next_item = 0
        n = len(arrivals)
        # plain lists: the ticket loop writes one element at a time, faster than into numpy
        nan = math.nan
        self.first_wait: list[float] = [nan] * n
        self.first_response: list[float] = [nan] * n
        self.resolution: list[float] = [nan] * n
        self.end: list[float] = [nan] * n
        self.abandoned: list[bool] = [False] * n
        self.events = array("d")
        """(ticket, activity code, time, agent or -1) of every recorded event, flat: 32 bytes an
        event, read by numpy without a copy."""
        """(ticket, activity code, time, agent or -1) of every recorded event."""
        self.waits: list[float] = []
        self.busy = [0.0] * len(self.agents)
        self.on_shift_s = np.zeros(len(self.agents))
        self.shift_began = np.full(len(self.agents), np.nan)
        self.open_tickets = 0
        self.arrivals_done = False
        self.done = self.env.event()
        self.resolve_at = [_resolve_index(model, v.path) for v in model.variants]
        self._prepare_draws()
        # each kind of ticket's routed work item per step, classified once
        self.templates: list[list[WorkItem | None]] = [
            [
                self._template(kind, step) if self.is_work[step] else None
                for step in range(len(self.activity_names))
            ]
            for kind in range(len(model.mix))
        ]
        self.may_abandon = [
            self.patience is not None
            and (not self.abandon_channels or (row.channel or "") in self.abandon_channels)
            for row in model.mix
        ]
        self._check_staffed()

    # ---- set-up -------------------------------------------------------------------------
    def _prepare_draws(self) -> None:
        model, seed = self.model, self.seed
        rng = stream(seed, "mix")
        n = len(self.arrivals)
        weights = np.asarray([row.weight for row in model.mix], dtype=float)
        self.kind = rng.choice(len(model.mix), size=n, p=weights / weights.sum())
        self.paths: list[list[int]] = [[self.code[s] for s in v.path] for v in model.variants]
        self.is_work_name = {name: a.kind == "work" for name, a in model.activities.items()}
        # trailing wait steps touch no agent: their times are computed, not simulated
        self.tails = [
            len(v.path)
            - next(
                (k for k, step in enumerate(reversed(v.path)) if self.is_work_name[step]),
                len(v.path),
            )
            for v in model.variants
        ]
        self.path_of = np.empty(n, dtype=np.int64)
        rng = stream(seed, "paths")  # its own stream: a change of volume keeps the mix's draws
        for k, row in enumerate(model.mix):
            eligible = [i for i, v in enumerate(model.variants) if v.matches(row)]
            w = np.asarray([model.variants[i].weight for i in eligible], dtype=float)
            mask = self.kind == k
            self.path_of[mask] = rng.choice(eligible, size=int(mask.sum()), p=w / w.sum())
        self.kind_of: list[int] = self.kind.tolist()
        self.variant_of: list[int] = self.path_of.tolist()
        self.rows = [
            (row.priority or "", row.channel or "", row.language or "", row.type)
            for row in model.mix
        ]
        acts = [model.activities[name] for name in model.activities]
        self.is_work = [a.kind == "work" for a in acts] + [False]
        self.team = [a.team for a in acts] + [None]
        self.skill = [a.skill for a in acts] + [None]
        self.factor = [a.time_factor for a in acts] + [1.0]
        self.service: list[Callable[[], float] | None] = [
            sampler(a.service, stream(seed, f"service:{name}")) if a.service is not None else None
            for name, a in model.activities.items()
        ] + [None]
        self.delay: dict[tuple[int, int], tuple[Callable[[], float], bool]] = {}
        for key, delay in model.delays.items():
            before, after = key.split(ARROW)
            self.delay[(self.code[before], self.code[after])] = (
                sampler(delay.time, stream(seed, f"delay:{key}")),
                delay.clock == "business",
            )
        self.default_delay = (
            (
                sampler(model.default_delay.time, stream(seed, "delay:*")),
                model.default_delay.clock == "business",
            )
            if model.default_delay is not None
            else None
        )
        # per variant and position: the delay into that step (None: none), looked up once
        self.step_delays: list[list[tuple[Callable[[], float], bool] | None]] = [
            [
                None if k == 0 else self.delay.get((path[k - 1], step), self.default_delay)
                for k, step in enumerate(path)
            ]
            for path in self.paths
        ]
        abandon = model.abandonment
        self.patience = (
            sampler(abandon.patience, stream(seed, "patience")) if abandon is not None else None
        )
        self.abandon_channels = set(abandon.channels) if abandon is not None else set()

    def _check_staffed(self) -> None:
        """Refuse a desk where some ticket's work step has no agent who may ever take it (it
        would wait for ever): no agent eligible, or none whose shift ever opens in its
        availability window."""
        ready = [
            agent
            for agent, group in zip(self.agents, self.agent_group, strict=True)
            if self._ever_on_shift(group)
        ]
        checked: set[tuple[int, int]] = set()
        for kind, row in enumerate(self.model.mix):
            for v, variant in enumerate(self.model.variants):
                if not variant.matches(row):
                    continue
                for step in self.paths[v]:
                    if not self.is_work[step] or (kind, step) in checked:
                        continue
                    checked.add((kind, step))
                    item = self._template(kind, step)
                    if not any(self._could_take(agent, item) for agent in ready):
                        who = ", ".join(
                            f"{k}={getattr(row, k)}"
                            for k in ("channel", "language", "priority")
                            if getattr(row, k) is not None
                        )
                        raise ValueError(
                            f"no agent can ever do {self.activity_names[step]!r} (team "
                            f"{item.team!r}, skill {item.skill!r}) for tickets with "
                            f"{who or 'no attributes'}: add an agent group that can"
                        )

    def _ever_on_shift(self, group: AgentGroup) -> bool:
        if group.count == 0:
            return False
        begin = self.model.instant(group.available_from, self.start_s)
        until = self.model.instant(group.available_until, math.inf)
        hours = (
            self.model.open_hours if group.shift is None else self.model.shifts[group.shift].hours
        )
        first_open, _ = next(_open_intervals(hours, max(begin, self.start_s)))
        return first_open < until

    def _could_take(self, agent: Agent, item: WorkItem) -> bool:
        """Whether ``agent`` may take ``item`` when on shift with a free slot."""
        was = agent.on_shift, agent.busy
        agent.on_shift, agent.busy = True, 0
        try:
            # with overflow, work may reach other teams once it has waited long enough
            later = item.arrived_s + (self.overflow_after or 0.0)
            return self.router.can_take(agent, item, later)
        finally:
            agent.on_shift, agent.busy = was

    # ---- running ------------------------------------------------------------------------
    def run(self) -> SimLog:
        env = self.env
        self._start_shifts()
        env.process(self._arrive())
        if len(self.arrivals):
            limit = env.timeout(float(self.arrivals[-1]) + _STUCK_AFTER_S - env.now)
            env.run(until=self.done | limit)
            if not self.done.triggered:
                raise ValueError(
                    f"{self.open_tickets:,} tickets still open {_STUCK_AFTER_S / 86400:.0f} days "
                    "after the last arrival: some work waits for agents who no longer come "
                    "on shift (check available_from/until and the shifts)"
                )
        end = env.now
        for i, agent in enumerate(self.agents):
            if agent.on_shift and not math.isnan(self.shift_began[i]):
                self.on_shift_s[i] += end - self.shift_began[i]
        # time on shift in agent slots: a chat agent with three slots offers three seconds a second
        slots = np.asarray([a.concurrency for a in self.agents], dtype=float)
        events = np.frombuffer(self.events, dtype=float).reshape(-1, 4)
        return SimLog(
            activities=self.activity_names,
            agent_names=[a.name for a in self.agents],
            agent_teams=[a.team for a in self.agents],
            case=events[:, 0].astype(np.int64),
            activity=events[:, 1].astype(np.int64),
            time_s=events[:, 2],
            agent=events[:, 3].astype(np.int64),
            arrival_s=self.arrivals,
            kind=self.kind,
            first_wait_s=np.asarray(self.first_wait, dtype=float),
            first_response_s=np.asarray(self.first_response, dtype=float),
            resolution_s=np.asarray(self.resolution, dtype=float),
            end_s=np.asarray(self.end, dtype=float),
            abandoned=np.asarray(self.abandoned, dtype=bool),
            waits_s=np.asarray(self.waits, dtype=float),
            busy_s=np.asarray(self.busy, dtype=float),
            on_shift_s=self.on_shift_s * slots,
            events_processed=len(self.events) // 4,
            mix=[
                {
                    "channel": r.channel,
                    "language": r.language,
                    "priority": r.priority,
                    "type": r.type,
                }
                for r in self.model.mix
            ],
        )

    def _arrive(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for i, instant in enumerate(self.arrivals.tolist()):
            if instant > env.now:
                yield env.timeout(instant - env.now)
            self.open_tickets += 1
            env.process(self._ticket(i))
        self.arrivals_done = True
        if self.open_tickets == 0 and not self.done.triggered:
            self.done.succeed()

    def _ticket(self, i: int) -> Generator[simpy.Event, Any, None]:
        # the hot loop of a run: everything per step is looked up by position, and attributes
        # are bound to locals once per ticket
        env, is_work, record, pool = self.env, self.is_work, self.events.extend, self.pool
        factor, service_of = self.factor, self.service
        arrived = env.now
        variant = self.variant_of[i]
        path = self.paths[variant]
        delays = self.step_delays[variant]
        kind = self.kind_of[i]
        templates = self.templates[kind]
        answered = False
        may_abandon = self.may_abandon[kind]
        tail = self.tails[variant]
        resolve_at = self.resolve_at[variant]
        for index in range(tail):
            step = path[index]
            wait = self._delay(delays[index], step, env.now)
            if wait > 0:
                yield env.timeout(wait)
            agent_id = -1
            if is_work[step]:
                ready = env.now
                template = templates[step]
                assert template is not None  # every work step has one
                # the template routes like the item itself unless waiting time matters
                probe = template if self.simple_routing else self._work_item(kind, step)
                agent = pool.pick(probe, ready)
                if agent is None:
                    item = probe if probe is not template else self._work_item(kind, step)
                    self.queue.push(item)
                    granted = env.event()
                    self.waiting[item.id] = granted
                    if self.overflow_after is not None and item.team is not None:
                        env.process(self._overflow(item))
                    if may_abandon and not answered and self.patience is not None:
                        yield granted | env.timeout(self.patience())
                        if not granted.triggered:
                            self.waiting.pop(item.id, None)
                            self.queue.remove(item.id)
                            record((i, self.abandoned_code, env.now, -1))
                            self.abandoned[i] = True
                            self.first_wait[i] = env.now - ready
                            self._finish(i)
                            return
                    else:
                        yield granted
                    agent = cast(Agent, granted.value)
                else:
                    self._take(agent)
                waited = env.now - ready
                self.waits.append(waited)
                if not answered:
                    self.first_wait[i] = waited
                service = service_of[step]
                assert service is not None  # a work step always has one
                took = service() * factor[step]
                if took > 0:
                    yield env.timeout(took)
                agent_id = agent.id
                self.busy[agent_id] += took
                self._release(agent)
                if not answered:
                    self.first_response[i] = env.now - arrived
                    answered = True
            record((i, step, env.now, agent_id))
            if index == resolve_at:
                self.resolution[i] = env.now - arrived
        now = env.now
        for index in range(tail, len(path)):
            # the ticket's last steps need nobody: no reason to wake the simulation for them
            step = path[index]
            now += self._delay(delays[index], step, now)
            record((i, step, now, -1))
            if index == resolve_at:
                self.resolution[i] = now - arrived
        self._finish(i, now)

    def _overflow(self, item: WorkItem) -> Generator[simpy.Event, Any, None]:
        """When ``item`` has waited ``overflow.after``, offer it to the free agents of the
        teams it may now overflow to (nothing else would wake an idle agent for it)."""
        assert self.overflow_after is not None
        yield self.env.timeout(self.overflow_after)
        granted = self.waiting.get(item.id)
        if granted is None:
            return  # taken or abandoned meanwhile
        agent = self.pool.pick(item, self.env.now)
        if agent is not None:
            self.queue.remove(item.id)
            del self.waiting[item.id]
            self._take(agent)
            granted.succeed(agent)

    def _template(self, kind: int, step: int) -> WorkItem:
        template = self.classified.get((kind, step))
        if template is None:
            self._work_item(kind, step)
            self.next_item -= 1
            template = self.classified[(kind, step)]
        return template

    def _work_item(self, kind: int, step: int) -> WorkItem:
        """The routed work item of ``step`` for a ticket of ``kind``. The routing rules read
        only the ticket's fields and the step's team and skill, so each (kind, step) is
        classified once and copied."""
        key = (kind, step)
        template = self.classified.get(key)
        if template is None:
            priority, channel, language, kind_type = self.rows[kind]
            template = self.router.classify(
                WorkItem(
                    id=-1,
                    arrived_s=0.0,
                    priority=priority,
                    channel=channel,
                    language=language,
                    type=kind_type,
                    team=self.team[step],
                    skill=self.skill[step],
                )
            )
            self.classified[key] = template
        self.next_item += 1
        return WorkItem(
            self.next_item,
            self.env.now,
            template.priority,
            template.channel,
            template.language,
            template.type,
            template.team,
            template.skill,
            template.rank,
        )

    def _delay(
        self, chosen: tuple[Callable[[], float], bool] | None, step: int, now: float
    ) -> float:
        """Seconds from ``now`` until ``step`` is ready, for the transition's delay ``chosen``."""
        if chosen is None:
            return 0.0
        draw, business = chosen
        length = draw() * self.factor[step]
        return self.desk_clock.add1(now, length) - now if business else length

    def _finish(self, i: int, at: float | None = None) -> None:
        self.end[i] = self.env.now if at is None else at
        self.open_tickets -= 1
        if self.open_tickets == 0 and self.arrivals_done and not self.done.triggered:
            self.done.succeed()

    # ---- agents ---------------------------------------------------------------------------
    def _take(self, agent: Agent) -> None:
        agent.busy += 1
        agent.last_assigned_s = self.env.now
        if agent.busy >= agent.concurrency:
            self.pool.discard(agent)
        else:
            self.pool.add(agent)  # one more slot taken: its place in the order changes

    def _release(self, agent: Agent) -> None:
        agent.busy -= 1
        agent.handled += 1
        if not agent.on_shift:
            return
        if (not self.queue or not self._serve_next(agent)) and agent.busy < agent.concurrency:
            self.pool.add(agent)

    def _serve_next(self, agent: Agent) -> bool:
        """Hand ``agent`` the best waiting work it may take; whether there was some."""
        item = self.queue.pop_for(agent, self.env.now)
        if item is None:
            return False
        granted = self.waiting.pop(item.id)
        self._take(agent)
        granted.succeed(agent)
        return True

    def _start_shifts(self) -> None:
        by_shift: dict[tuple[str | None, float, float], list[Agent]] = {}
        for agent, group in zip(self.agents, self.agent_group, strict=True):
            key = (
                group.shift,
                self.model.instant(group.available_from, -math.inf),
                self.model.instant(group.available_until, math.inf),
            )
            by_shift.setdefault(key, []).append(agent)
        for (shift, begin, until), agents in by_shift.items():
            hours = self.model.open_hours if shift is None else self.model.shifts[shift].hours
            self.env.process(self._shift(hours, agents, begin, until))

    def _shift(
        self, hours: OpenHours, agents: list[Agent], available: float, until: float
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for open_at, close_at in _open_intervals(hours, max(env.now, available)):
            begin, end = open_at, min(close_at, until)
            if self.done.triggered or begin >= until:
                return
            if begin > env.now:
                yield env.timeout(begin - env.now)
            for agent in agents:
                agent.on_shift = True
                self.shift_began[agent.id] = env.now
                while agent.busy < agent.concurrency and self._serve_next(agent):
                    pass
                if agent.busy < agent.concurrency:
                    self.pool.add(agent)
            yield env.timeout(end - env.now)
            for agent in agents:
                agent.on_shift = False
                self.on_shift_s[agent.id] += env.now - self.shift_began[agent.id]
                self.pool.discard(agent)


def _open_intervals(hours: OpenHours, start_s: float) -> Iterator[tuple[float, float]]:
    """The open intervals of ``hours`` from ``start_s`` on (clipped to it), without end: a
    ticket may wait for an agent long after the last arrival."""
    chunk = 365 * 86400.0
    cursor = start_s
    while True:
        clock = BusinessClock(hours, cursor - _WEEK, cursor + chunk)
        found = False
        for begin, end in clock.intervals():
            if end <= cursor:
                continue
            if begin >= cursor + chunk:
                break
            yield max(begin, cursor), end
            cursor, found = end, True
        if not found:
            cursor += chunk
