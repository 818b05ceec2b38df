"""A simulation scenario: the whole service desk in one YAML file, and what-if overlays on it.

``supportflow simulate calibrate LOG`` writes one from an event log; a planner edits it or writes
an overlay (add agents, change shifts, switch routing, remove or speed up a step, a promotion
peak) and ``supportflow simulate run`` compares the two. A scenario says:

- **when**: ``start`` (an instant) and either ``cases`` (simulate exactly this many tickets) or
  ``duration`` (simulate the arrivals of this long);
- **arrivals**: tickets per hour for each of the 168 hours of the week in ``zone`` (a
  non-homogeneous Poisson process), a ``multiplier`` and dated ``peaks``;
- **mix**: the joint shares of channel, language, priority and type;
- **variants**: the paths tickets take (activity sequences) with their weights, optionally only
  for some tickets (``when: {channel: chat}``);
- **activities**: ``work`` needs an agent of a team (and skill) for a service time; ``wait``
  elapses without one (the customer, a timer);
- **delays**: the time from one event to the next step becoming ready, per transition
  ``"A -> B"``, on the desk's business clock (``open_hours``) or the wall clock;
- **agents**: groups with a team, skills, languages, channels, concurrency and a shift (named
  weekly hours in their own zone);
- **routing**: the same :class:`~supportflow.rules.routing.RoutingRules` the live service uses;
- **abandonment**: how long customers wait for a first answer before giving up;
- **targets**: the first-response and resolution targets whose attainment is reported.

Every mistake names the file, line and field (``scenario.yaml:31: agents[2].count: ...``).
``docs/simulation.md`` describes every field.
"""

from __future__ import annotations

import copy
import re
import zoneinfo
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from supportflow.rules.durations import Duration
from supportflow.rules.routing import RoutingRules
from supportflow.rules.status import StatusMap
from supportflow.rules.yamlio import RulesError, format_loc, line_of, read_yaml
from supportflow.simulate.clock import OpenHours
from supportflow.simulate.distributions import Distribution, to_yaml_dict

HOURS_OF_WEEK = 168
ARROW = " -> "
"""Separator of a transition key: ``"Resolve ticket -> Closed"``."""
ABANDONED = "Abandoned"
"""The activity recorded when a customer gives up waiting for a first answer."""
TICKET_FIELDS = ("channel", "language", "priority", "type")
MAX_DURATION_S = 7300 * 86400.0
MAX_RATE_PER_HOUR = 1_000_000.0
_DEFER_CHECKS: ContextVar[bool] = ContextVar("defer_scenario_checks", default=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as Europe/Rome"
        ) from exc
    return value


class Peak(_Strict):
    """A dated change of volume: ``{start: 2024-11-29, days: 3, multiplier: 3}`` is +200 %."""

    start: datetime
    end: datetime | None = None
    days: float | None = Field(default=None, gt=0, le=3660)
    multiplier: float = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def _one_end(self) -> Peak:
        if (self.end is None) == (self.days is None):
            raise ValueError("give either end or days")
        return self


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _expand_days(key: str) -> list[int]:
    """``mon-fri`` → [0..4]; ``sat`` → [5]; ``sat,sun`` → [5, 6]."""
    days: list[int] = []
    for part in key.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"{key!r}: days are mon..sun, a range mon-fri, or a list sat,sun")
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if b < a:
            raise ValueError(f"{key!r}: a range runs forward (mon-fri)")
        days.extend(range(a, b + 1))
    return days


class Arrivals(_Strict):
    """Tickets per hour for each hour of the week (Monday 00:00 local first).

    Written either as ``per_hour_of_week`` (168 numbers) or as ``weekly``, 24 numbers per day
    or range of days (``{mon-fri: [...24], sat: [...24]}``; days not named get none).
    """

    per_hour_of_week: list[float] | None = Field(
        default=None, min_length=HOURS_OF_WEEK, max_length=HOURS_OF_WEEK
    )
    replay: str | None = None
    """Instead of rates: an event log whose tickets' arrival instants (each case's first event)
    are replayed, read in the scenario's ``zone`` when naive; a relative path is read from the
    scenario file's folder. ``multiplier`` and ``peaks`` scale it (see ``docs/simulation.md``)."""
    multiplier: float = Field(default=1.0, gt=0, le=1000)
    peaks: list[Peak] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> Arrivals:
        if (self.per_hour_of_week is None) == (self.replay is None):
            raise ValueError("give the arrivals one way: per_hour_of_week (or weekly), or replay")
        return self

    @model_validator(mode="before")
    @classmethod
    def _weekly(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "weekly" not in data:
            return data
        if "per_hour_of_week" in data:
            raise ValueError("give per_hour_of_week or weekly, not both")
        weekly = data["weekly"]
        if not isinstance(weekly, dict):
            raise ValueError("weekly: a mapping of days to 24 hourly rates")
        rates = [0.0] * HOURS_OF_WEEK
        named: set[int] = set()
        for key, hours in weekly.items():
            if not isinstance(hours, list) or len(hours) != 24:
                raise ValueError(f"weekly.{key}: give 24 hourly rates (00:00 to 23:00)")
            for day in _expand_days(str(key)):
                if day in named:
                    raise ValueError(f"weekly.{key}: {WEEKDAYS[day]} is named twice")
                named.add(day)
                rates[24 * day : 24 * day + 24] = hours
        rest = {k: v for k, v in data.items() if k != "weekly"}
        return {**rest, "per_hour_of_week": rates}

    @field_validator("per_hour_of_week")
    @classmethod
    def _rates(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        for hour, rate in enumerate(value):
            if not 0 <= rate <= MAX_RATE_PER_HOUR:
                raise ValueError(
                    f"hour {hour}: a rate is 0 to {MAX_RATE_PER_HOUR:,.0f} tickets an hour, not {rate}"
                )
        if sum(value) <= 0:
            raise ValueError("no arrivals in any hour of the week")
        return value


class MixRow(_Strict):
    """One kind of ticket and its share of arrivals."""

    weight: float = Field(gt=0)
    channel: str | None = None
    language: str | None = None
    priority: str | None = None
    type: str | None = None


class Variant(_Strict):
    """A path through the desk, its weight, and which tickets may take it."""

    path: list[str] = Field(min_length=1)
    weight: float = Field(gt=0)
    when: dict[str, str | list[str]] = Field(default_factory=dict)

    @field_validator("when")
    @classmethod
    def _fields(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for key in value:
            if key not in TICKET_FIELDS:
                raise ValueError(f"unknown ticket field {key!r}; use {', '.join(TICKET_FIELDS)}")
        return value

    def matches(self, row: MixRow) -> bool:
        for key, wanted in self.when.items():
            have = getattr(row, key)
            if have not in (wanted if isinstance(wanted, list) else [wanted]):
                return False
        return True


class Activity(_Strict):
    """A step: ``work`` holds an agent of ``team`` for ``service``; ``wait`` needs nobody."""

    kind: Literal["work", "wait"] = "work"
    team: str | None = None
    skill: str | None = None
    service: Distribution | None = None
    time_factor: float = Field(default=1.0, gt=0)
    """Multiplies the service time and the delay into this step (a what-if: 0.5 = twice as fast)."""
    remove: bool = False
    """A what-if: the step disappears from every path, with its service time and the delay into
    it; the delay out of it becomes the delay into the next step, unless that transition
    already has a delay of its own."""

    @model_validator(mode="after")
    def _work_has_service(self) -> Activity:
        if self.kind == "work" and self.service is None:
            raise ValueError("a work step needs a service time (service: {dist: ...})")
        return self


class Delay(_Strict):
    """The time from the previous event until a step is ready."""

    clock: Literal["business", "wall"] = "business"
    time: Distribution


class Shift(_Strict):
    """Named working hours; agents work (and take new work) only inside them."""

    hours: OpenHours


class AgentGroup(_Strict):
    """Identical agents: a team, what they can do, and when they work."""

    name: str
    team: str
    count: int = Field(ge=0, le=100_000)
    skills: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    """Languages they answer in; empty means any."""
    channels: list[str] = Field(default_factory=list)
    """Channels they serve; empty means any."""
    concurrency: int = Field(default=1, ge=1)
    """Tickets one agent handles at once (chat agents often 2-3)."""
    shift: str | None = None
    """A name from ``shifts``; none means the desk's ``open_hours``."""
    available_from: datetime | None = None
    available_until: datetime | None = None
    """Temporary staff: the group works its shift only between these instants (naive ones are
    read in the scenario's ``zone``)."""


class Abandonment(_Strict):
    """Customers who wait for a first answer longer than their patience give up."""

    patience: Distribution
    channels: list[str] = Field(default_factory=list)
    """Channels whose customers abandon; empty means all."""


class Targets(_Strict):
    """Targets whose attainment is reported, overall and by hour of arrival."""

    first_response: Duration | None = None
    resolution: Duration | None = None
    attainment: float = Field(default=0.8, gt=0, le=1)
    """The share of tickets that must meet a target for an hour to count as meeting the SLA."""
    clock: Literal["business", "wall"] = "business"
    """``business``: the targets count only the desk's ``open_hours`` (an SLA clock: a ticket
    that arrives on Sunday starts its clock on Monday morning); ``wall``: every second."""


class Scenario(_Strict):
    """The whole desk; see the module docstring and ``docs/simulation.md``."""

    name: str = "scenario"
    zone: str = "UTC"
    start: datetime
    cases: int | None = Field(default=None, gt=0, le=50_000_000)
    duration: Duration | None = None
    open_hours: OpenHours
    shifts: dict[str, Shift] = Field(default_factory=dict)
    arrivals: Arrivals
    mix: list[MixRow] = Field(default_factory=lambda: [MixRow(weight=1.0)], min_length=1)
    variants: list[Variant] = Field(min_length=1)
    activities: dict[str, Activity]
    delays: dict[str, Delay] = Field(default_factory=dict)
    default_delay: Delay | None = None
    """For transitions ``delays`` does not name; without it they take no time."""
    agents: list[AgentGroup] = Field(default_factory=list)
    routing: RoutingRules = Field(default_factory=RoutingRules)
    abandonment: Abandonment | None = None
    targets: Targets = Field(default_factory=Targets)
    status_map: str | StatusMap | None = None
    """A shipped preset name or an inline status map, for the KPIs of the simulated log."""

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("duration")
    @classmethod
    def _sensible_duration(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= MAX_DURATION_S:
            raise ValueError("a duration longer than 0 and at most 20 years (7300d)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if _DEFER_CHECKS.get():
            return self  # load_scenario reports them with their lines
        found = cross_check(self)
        if found:
            raise ValueError("; ".join(f"{format_loc(loc)}: {text}" for loc, text in found))
        return self

    @property
    def start_s(self) -> float:
        """``start`` in epoch seconds (a naive ``start`` is read in ``zone``)."""
        start = self.start
        if start.tzinfo is None:
            start = start.replace(tzinfo=zoneinfo.ZoneInfo(self.zone))
        return start.timestamp()

    def peak_windows(self) -> list[tuple[float, float, float]]:
        """``(start_s, end_s, multiplier)`` of each peak, naive instants read in ``zone``."""
        zone = zoneinfo.ZoneInfo(self.zone)
        windows = []
        for peak in self.arrivals.peaks:
            begin = peak.start if peak.start.tzinfo else peak.start.replace(tzinfo=zone)
            if peak.end is not None:
                end = peak.end if peak.end.tzinfo else peak.end.replace(tzinfo=zone)
            else:
                end = begin + timedelta(days=peak.days or 0)
            windows.append((begin.timestamp(), end.timestamp(), peak.multiplier))
        return windows

    def instant(self, value: datetime | None, default: float) -> float:
        """``value`` in epoch seconds (naive read in ``zone``), or ``default`` when ``None``."""
        if value is None:
            return default
        if value.tzinfo is None:
            value = value.replace(tzinfo=zoneinfo.ZoneInfo(self.zone))
        return value.timestamp()

    def effective(self) -> Scenario:
        """The scenario with ``remove``d steps taken out of every path (and their delays
        re-joined as the module docstring says); unchanged when nothing is removed."""
        removed = {name for name, a in self.activities.items() if a.remove}
        if not removed:
            return self
        variants = []
        for variant in self.variants:
            path = [step for step in variant.path if step not in removed]
            if path:
                variants.append(variant.model_copy(update={"path": path}))
        if not variants:
            raise RulesError("every step of every variant was removed")
        delays = dict(self.delays)
        for variant in self.variants:
            kept: str | None = None  # the last step before a run of removed ones
            for step, after in zip(variant.path, [*variant.path[1:], None], strict=True):
                if step not in removed:
                    kept = step
                    continue
                if after is not None and after not in removed and kept is not None:
                    out = self.delays.get(f"{step}{ARROW}{after}")
                    if out is not None:
                        delays.setdefault(f"{kept}{ARROW}{after}", out)
        activities = {n: a for n, a in self.activities.items() if n not in removed}
        return self.model_copy(
            update={
                "variants": variants,
                "activities": activities,
                "delays": {
                    k: v
                    for k, v in delays.items()
                    if all(s in activities or not s for s in k.split(ARROW))
                },
            }
        )


def cross_check(scenario: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Mistakes that span fields (a step no agent can do, a path through an unknown step...),
    each with the path of the field to blame."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if scenario.cases is None and scenario.duration is None:
        found.append(((), "give cases (tickets to simulate) or duration (a period)"))
    teams = {group.team for group in scenario.agents}
    if ABANDONED in scenario.activities:
        found.append(
            (("activities", ABANDONED), f"{ABANDONED!r} is the simulator's own event; rename it")
        )
    for index, group in enumerate(scenario.agents):
        if (
            group.available_from is not None
            and group.available_until is not None
            and scenario.instant(group.available_until, 0)
            <= scenario.instant(group.available_from, 0)
        ):
            found.append((("agents", index, "available_until"), "not after available_from"))
    for name, activity in scenario.activities.items():
        if (
            activity.kind == "work"
            and activity.team is not None
            and activity.team not in teams
            and scenario.routing.overflow is None  # overflow lets other teams take it
        ):
            found.append(
                (("activities", name, "team"), f"no agent group works in team {activity.team!r}")
            )
    for index, variant in enumerate(scenario.variants):
        for step in variant.path:
            if step not in scenario.activities:
                found.append((("variants", index, "path"), f"{step!r} is not in activities"))
    for key in scenario.delays:
        if ARROW not in key:
            found.append((("delays", key), f"{key!r} is not a transition 'A -> B'"))
            continue
        for step in key.split(ARROW):
            if step not in scenario.activities:
                found.append((("delays", key), f"{step!r} is not in activities"))
    for index, group in enumerate(scenario.agents):
        if group.shift is not None and group.shift not in scenario.shifts:
            found.append((("agents", index, "shift"), f"no shift named {group.shift!r}"))
    for index, row in enumerate(scenario.mix):
        if not any(v.matches(row) for v in scenario.variants):
            found.append((("mix", index), "no variant's `when` matches this kind of ticket"))
    return found


def merge_overlay(base: Any, overlay: Any) -> Any:
    """``overlay`` applied on ``base``: mappings merge key by key, lists of mappings that all
    have a ``name`` merge item by item on it (new names are appended), anything else is
    replaced. ``null`` in the overlay deletes the key."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = merge_overlay(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if (
        isinstance(base, list)
        and isinstance(overlay, list)
        and all(isinstance(item, dict) and "name" in item for item in [*base, *overlay])
    ):
        by_name = {item["name"]: dict(item) for item in base}
        for item in overlay:
            name = item["name"]
            by_name[name] = merge_overlay(by_name[name], item) if name in by_name else item
        return list(by_name.values())
    return copy.deepcopy(overlay)


Lines = dict[tuple[str | int, ...], int]


def _merged_lines(base: Any, overlay: Any, lines: Lines, at: tuple[str | int, ...]) -> Lines:
    """The overlay's line numbers re-keyed by the merged document's paths (an agent group
    merged by name sits at another index of the merged list than in the overlay)."""
    out: Lines = {}
    if at in lines:
        out[at] = lines[at]
    if isinstance(overlay, dict):
        for key, value in overlay.items():
            below = base.get(key) if isinstance(base, dict) else None
            out |= _merged_lines(below, value, lines, (*at, key))
    elif isinstance(overlay, list):
        named = isinstance(base, list) and all(
            isinstance(item, dict) and "name" in item for item in [*base, *overlay]
        )
        order = [item["name"] for item in base] if named else []
        for index, item in enumerate(overlay):
            target, below = index, None
            if named:
                if item["name"] in order:
                    target = order.index(item["name"])
                    below = base[target]
                else:
                    order.append(item["name"])
                    target = len(order) - 1
            shifted = {
                (*at, target, *k[len(at) + 1 :]): v
                for k, v in lines.items()
                if k[: len(at) + 1] == (*at, index)
            }
            out |= _merged_lines(below, item, shifted, (*at, target))
    return out


def _validate(data: Any, sources: list[tuple[str, Lines]]) -> Scenario:
    """Validate ``data``; each problem is blamed on the first source (file, lines) that wrote
    the field, the overlay before the base."""

    def where(loc: tuple[str | int, ...]) -> str:
        for source, lines in sources:
            for end in range(len(loc), 0, -1):
                if loc[:end] in lines:
                    return f"{source}:{lines[loc[:end]]}"
        source, lines = sources[-1]
        line = line_of(lines, loc)
        return f"{source}:{line}" if line is not None else source

    token = _DEFER_CHECKS.set(True)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:10]:
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            message = re.sub(r"^(Value|Assertion) error, ", "", error["msg"])
            problems.append(f"{where(loc)}: {format_loc(loc)}: {message}")
        raise RulesError("\n".join(problems)) from exc
    finally:
        _DEFER_CHECKS.reset(token)
    found = cross_check(scenario)
    if found:
        raise RulesError(
            "\n".join(f"{where(loc)}: {format_loc(loc)}: {text}" for loc, text in found[:10])
        )
    return scenario


def _anchor_replay(data: dict[str, Any], source: str | Path) -> dict[str, Any]:
    """``arrivals.replay`` read relative to the folder of the file that names it."""
    arrivals = data.get("arrivals")
    if isinstance(arrivals, dict) and isinstance(arrivals.get("replay"), str):
        replay = Path(arrivals["replay"])
        if not replay.is_absolute():
            anchored = str(Path(source).resolve().parent / replay)
            data = {**data, "arrivals": {**arrivals, "replay": anchored}}
    return data


def load_scenario(path: str | Path, *overlays: str | Path | None) -> Scenario:
    """Read a scenario, with what-if ``overlays`` applied in order.

    Raises:
        RulesError: a file is unreadable or a field is wrong; the message names the file
            (the overlay's when the field came from it), the line and the field.
    """
    data, lines = read_yaml(path)
    if data is None:
        raise RulesError(f"{path}: the file is empty")
    if not isinstance(data, dict):
        raise RulesError(f"{path}: a scenario is a mapping of fields")
    data = _anchor_replay(data, path)
    scenario = _validate(data, [(str(path), lines)])
    sources: list[tuple[str, Lines]] = [(str(path), lines)]
    for overlay in overlays:
        if overlay is None:
            continue
        extra, extra_lines = read_yaml(overlay)
        if not isinstance(extra, dict):
            raise RulesError(f"{overlay}: a what-if overlay is a mapping of scenario fields")
        # a field an overlay wrote is reported at that overlay's line
        extra = _anchor_replay(extra, overlay)
        moved = _merged_lines(data, extra, extra_lines, ())
        moved.pop((), None)
        data = merge_overlay(data, extra)
        sources.insert(0, (str(overlay), moved))
        scenario = _validate(data, sources)
    return scenario


def scenario_yaml_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the shortest YAML mapping that reads back equal: defaults left out,
    open hours as weekly windows, distributions in their shortest spec."""
    data: dict[str, Any] = scenario.model_dump(
        mode="json", exclude_defaults=True, exclude_none=True
    )
    data = {"name": scenario.name, **data}
    data["start"] = scenario.start.isoformat()
    data["open_hours"] = scenario.open_hours.to_yaml_dict()
    for name, shift in scenario.shifts.items():
        data["shifts"][name]["hours"] = shift.hours.to_yaml_dict()
    for name, activity in scenario.activities.items():
        entry = data["activities"].setdefault(name, {})
        if activity.service is not None:
            entry["service"] = to_yaml_dict(activity.service)
    for key, delay in scenario.delays.items():
        data["delays"][key] = {"clock": delay.clock, "time": to_yaml_dict(delay.time)}
    if scenario.default_delay is not None:
        data["default_delay"] = {
            "clock": scenario.default_delay.clock,
            "time": to_yaml_dict(scenario.default_delay.time),
        }
    if scenario.abandonment is not None:
        data["abandonment"]["patience"] = to_yaml_dict(scenario.abandonment.patience)
    return data


def dump_scenario(scenario: Scenario, path: str | Path, *, header: str = "") -> None:
    """Write ``scenario`` as YAML that :func:`load_scenario` reads back unchanged."""
    text = yaml.safe_dump(
        scenario_yaml_dict(scenario),
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )
    Path(path).write_text(header + text, encoding="utf-8")
