"""SLA policies: how fast a team promised to answer and to resolve, on which working hours.

A help desk promises, per priority (and perhaps per channel or customer tier), a *first
response* within, say, 4 hours and a *resolution* within 3 days. The hours are *business* hours:
an Italian team working Monday to Friday 09:00-18:00 does not let a Friday-evening ticket breach
over the weekend, nor on All Saints' Day. While the ticket waits on the customer the clock
pauses. The policy is a YAML file::

    calendars:
      emea:
        timezone: Europe/Rome
        hours: {mon-fri: "09:00-13:00,14:00-18:00"}   # or: hours: 24x7
        holidays: {country: IT}                       # public holidays, from `holidays`
        dates: [2024-12-24]                           # extra closed days
        teams: [Billing EU]                           # tickets of these teams use it
    default_calendar: emea
    pause_states: [waiting_on_customer, waiting_on_third_party]
    targets:
      - {priority: P1, first_response: 1h, resolution: 8h, calendar: 24x7}
      - {priority: P2, channel: chat, first_response: 10m}
      - {priority: "*", first_response: 1d, resolution: 5d}

``docs/sla.md`` describes every field; mistakes are reported with their line and field.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NamedTuple, NoReturn

import holidays as holiday_data
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from supportflow.rules.durations import Duration
from supportflow.rules.status import STATE_CATEGORIES
from supportflow.rules.yamlio import fail_at, load_model

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of ``hours``, Monday first (index = ``date.weekday()``)."""
ALWAYS_OPEN = "24x7"
"""The built-in calendar: UTC, open every minute of every day."""
PAUSABLE_STATES = tuple(s for s in STATE_CATEGORIES if s not in ("resolved", "closed"))
"""States that may pause the clock (resolved and closed always stop it)."""
ANY = "*"
DURATION_KPIS = (
    "first_response_time",
    "time_to_assign",
    "handling_time",
    "resolution_time",
    "first_resolution_time",
    "time_to_close",
    "waiting_on_customer_time",
)
"""The KPIs measured in time, which ``kpi_targets`` may name (``supportflow.kpi.measures``)."""

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DAY_KEY = re.compile(r"^([a-z]{3})(?:\s*-\s*([a-z]{3}))?$")
_WINDOW_HINT = "write HH:MM-HH:MM, several separated by commas: '09:00-13:00,14:00-18:00'"


class Window(NamedTuple):
    """Working hours within one day, in minutes after local midnight (end may be 1440)."""

    start_min: int
    end_min: int

    def __str__(self) -> str:
        return f"{_clock(self.start_min)}-{_clock(self.end_min)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fail(title: str, problems: list[tuple[tuple[str | int, ...], str, object]]) -> NoReturn:
    fail_at("sla_policy", title, problems)


def _parse_window(text: str) -> Window:
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"not a time window: {text.strip()!r} ({_WINDOW_HINT})")
    h0, m0, h1, m1 = (int(g) for g in match.groups())
    for hour, minute in ((h0, m0), (h1, m1)):
        if hour > 24 or minute > 59 or (hour == 24 and minute > 0):
            raise ValueError(f"not a time of day: {hour:02d}:{minute:02d} in {text.strip()!r}")
    window = Window(h0 * 60 + m0, h1 * 60 + m1)
    if window.end_min <= window.start_min:
        raise ValueError(
            f"the window {text.strip()!r} does not end after it starts; split a night shift "
            "over two days: 22:00-24:00 and 00:00-06:00"
        )
    return window


def parse_day_hours(value: object) -> tuple[Window, ...]:
    """The working windows of one day from ``"09:00-13:00,14:00-18:00"`` (or a list of those).

    Raises:
        ValueError: a window is malformed, empty, or two windows overlap.
    """
    if isinstance(value, list | tuple) and all(
        isinstance(p, list | tuple) and len(p) == 2 and all(type(m) is int for m in p)
        for p in value
    ):
        value = [f"{_clock(p[0])}-{_clock(p[1])}" for p in value]  # already parsed (a dump)
    if isinstance(value, str):
        parts = [p for p in value.split(",") if p.strip()]
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        parts = list(value)
    else:
        raise ValueError(f"not a time window: {value!r} ({_WINDOW_HINT}; quote it in YAML)")
    if not parts:
        raise ValueError(f"no time window given ({_WINDOW_HINT}); leave a closed day out")
    windows = sorted(_parse_window(p) for p in parts)
    for earlier, later in itertools.pairwise(windows):
        if later.start_min < earlier.end_min:
            raise ValueError(f"the windows {earlier} and {later} overlap")
    return tuple(windows)


def _days_of(key: str) -> list[str]:
    """``"mon-fri"`` → ``["mon", ..., "fri"]``; a range may wrap (``"fri-mon"``)."""
    match = _DAY_KEY.match(key.strip().lower())
    names = [g for g in match.groups() if g] if match else []
    if not names or any(n not in WEEKDAYS for n in names):
        raise ValueError(
            f"unknown weekday {key!r}; use mon, tue, wed, thu, fri, sat, sun or a range as mon-fri"
        )
    first = WEEKDAYS.index(names[0])
    last = WEEKDAYS.index(names[-1])
    return [WEEKDAYS[(first + i) % 7] for i in range((last - first) % 7 + 1)]


DayHours = Annotated[tuple[Window, ...], BeforeValidator(parse_day_hours)]


def _label(value: object) -> object:
    """Priorities, channels and tiers may be written as bare numbers (``priority: 1``)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Label = Annotated[str, BeforeValidator(_label), AfterValidator(str.strip)]


def _holiday_source(value: object) -> object:
    return {"country": value} if isinstance(value, str) else value


def _pause_state(value: str) -> str:
    if value not in PAUSABLE_STATES:
        raise ValueError(
            f"unknown pause state {value!r}; choose from {', '.join(PAUSABLE_STATES)} "
            "(resolved and closed always stop the clock)"
        )
    return value


class HolidaySource(BaseModel):
    """Public holidays of a country (and region) from the ``holidays`` package."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str
    subdivision: Label | None = None

    @model_validator(mode="after")
    def _known_country(self) -> HolidaySource:
        supported: dict[str, list[str]] = holiday_data.list_supported_countries()
        if self.country not in supported:
            raise ValueError(
                f"unknown holidays country {self.country!r}; use an ISO code such as IT, DE, US"
            )
        subdivisions = supported[self.country]
        if self.subdivision is not None and self.subdivision not in subdivisions:
            shown = ", ".join(subdivisions[:12]) + (", ..." if len(subdivisions) > 12 else "")
            raise ValueError(
                f"unknown subdivision {self.subdivision!r} of {self.country}; "
                f"choose from {shown or 'none (this country has none)'}"
            )
        return self

    def dates(self, years: range) -> set[date]:
        """The holiday dates in ``years``."""
        found = holiday_data.country_holidays(self.country, subdiv=self.subdivision, years=years)
        return set(found.keys())


class SlaCalendar(BaseModel):
    """Working hours in a time zone, minus holidays; who works on it (teams, regions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    hours: dict[str, DayHours]
    """Windows per weekday after validation (``mon`` … ``sun``; days not listed are closed)."""
    holidays: Annotated[HolidaySource | None, BeforeValidator(_holiday_source)] = None
    dates: list[date] = Field(default_factory=list)
    """Extra closed days (company holidays)."""
    regions: list[Label] = Field(default_factory=list)
    teams: list[Label] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Rome"
            ) from None
        return value

    @field_validator("hours", mode="wrap")
    @classmethod
    def _expand_days(
        cls, value: Any, handler: ValidatorFunctionWrapHandler
    ) -> dict[str, tuple[Window, ...]]:
        if value == ALWAYS_OPEN:
            return {day: (Window(0, 1440),) for day in WEEKDAYS}
        if not isinstance(value, dict) or not value:
            raise ValueError("write 24x7 or weekdays with windows, such as mon-fri: 09:00-18:00")
        problems: list[tuple[tuple[str | int, ...], str, object]] = []
        owner: dict[str, str] = {}
        for key in value:
            try:
                days = _days_of(str(key))
            except ValueError as exc:
                problems.append(((str(key),), str(exc), key))
                continue
            for day in days:
                if day in owner:
                    problems.append(((str(key),), f"{day} is also given by {owner[day]!r}", key))
                owner.setdefault(day, str(key))
        if problems:
            _fail("hours", problems)
        by_key: dict[str, tuple[Window, ...]] = handler({str(k): v for k, v in value.items()})
        return {day: by_key[owner[day]] for day in WEEKDAYS if day in owner}

    def windows_on(self, weekday: int) -> tuple[Window, ...]:
        """The working windows of a weekday (0 = Monday); empty when closed."""
        return self.hours.get(WEEKDAYS[weekday], ())


def _always_open() -> SlaCalendar:
    return SlaCalendar.model_validate({"timezone": "UTC", "hours": ALWAYS_OPEN})


class SlaTarget(BaseModel):
    """One promise: for tickets of this priority (channel, tier), respond and resolve within."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: Label
    """A priority, or ``*`` for any (matched without regard to case, as channel and tier)."""
    channel: Label | None = None
    tier: Label | None = None
    first_response: Duration | None = None
    resolution: Duration | None = None
    calendar: str | None = None
    """The calendar for this target; else the ticket's team/region calendar, else the default."""

    @field_validator("channel", "tier")
    @classmethod
    def _star_is_any(cls, value: str | None) -> str | None:
        return None if value == ANY else value

    @field_validator("first_response", "resolution")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("a target must be longer than zero")
        return value

    @model_validator(mode="after")
    def _promises_something(self) -> SlaTarget:
        if self.first_response is None and self.resolution is None:
            raise ValueError("give first_response, resolution or both")
        return self

    @property
    def specificity(self) -> int:
        """How many of priority, channel and tier the target pins down (higher wins)."""
        return (self.priority != ANY) + (self.channel is not None) + (self.tier is not None)


class SlaPolicy(BaseModel):
    """Calendars, pause rules and per-priority targets; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendars: dict[str, SlaCalendar] = Field(default_factory=dict)
    default_calendar: str | None = None
    """Calendar of tickets no team or region claims; the built-in ``24x7`` when not given."""
    pause_states: list[Annotated[str, AfterValidator(_pause_state)]] = Field(
        default_factory=lambda: ["waiting_on_customer", "waiting_on_third_party"]
    )
    pause_first_response: bool = False
    targets: list[SlaTarget]
    kpi_targets: dict[str, Duration] = Field(default_factory=dict)
    """Wall-clock targets for "share within target" KPIs (``first_response_time: 4h``)."""

    @field_validator("kpi_targets")
    @classmethod
    def _duration_kpis_only(cls, value: dict[str, float]) -> dict[str, float]:
        for name in value:
            if name not in DURATION_KPIS:
                raise ValueError(
                    f"{name!r} is not a KPI measured in time; "
                    f"targets can be set for {', '.join(DURATION_KPIS)}"
                )
        return value

    @field_validator("calendars", mode="wrap")
    @classmethod
    def _one_calendar_per_team(
        cls, value: Any, handler: ValidatorFunctionWrapHandler
    ) -> dict[str, SlaCalendar]:
        calendars: dict[str, SlaCalendar] = handler(value)
        problems: list[tuple[tuple[str | int, ...], str, object]] = []
        if ALWAYS_OPEN in calendars:
            problems.append(((ALWAYS_OPEN,), "the name 24x7 is the built-in calendar", ALWAYS_OPEN))
        for field in ("teams", "regions"):
            claimed: dict[str, str] = {}
            for name, calendar in calendars.items():
                for index, member in enumerate(getattr(calendar, field)):
                    other = claimed.setdefault(member.lower(), name)
                    if other != name:
                        message = f"{member!r} is already in calendar {other!r}"
                        problems.append(((name, field, index), message, member))
        if problems:
            _fail("calendars", problems)
        return calendars

    @field_validator("default_calendar")
    @classmethod
    def _default_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "calendars" not in info.data:
            return value  # the calendars are invalid: that error is reported already
        if value is not None and value not in cls._calendar_names(info):
            raise ValueError(cls._unknown_calendar(value, info))
        return value

    @field_validator("targets", mode="wrap")
    @classmethod
    def _target_calendars_exist(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> list[SlaTarget]:
        targets: list[SlaTarget] = handler(value)
        if not targets:
            raise ValueError("name at least one target, such as priority: '*' with resolution: 3d")
        if "calendars" not in info.data:
            return targets  # the calendars are invalid: that error is reported already
        known = cls._calendar_names(info)
        problems: list[tuple[tuple[str | int, ...], str, object]] = [
            ((index, "calendar"), cls._unknown_calendar(t.calendar, info), t.calendar)
            for index, t in enumerate(targets)
            if t.calendar is not None and t.calendar not in known
        ]
        if problems:
            _fail("targets", problems)
        return targets

    @staticmethod
    def _calendar_names(info: ValidationInfo) -> set[str]:
        return {*info.data.get("calendars", {}), ALWAYS_OPEN}

    @classmethod
    def _unknown_calendar(cls, name: str | None, info: ValidationInfo) -> str:
        known = ", ".join(sorted(cls._calendar_names(info)))
        return f"unknown calendar {name!r}; define it under calendars or use one of: {known}"

    def calendar(self, name: str) -> SlaCalendar:
        """The calendar called ``name`` (``24x7`` is built in).

        Raises:
            KeyError: no such calendar.
        """
        return _always_open() if name == ALWAYS_OPEN else self.calendars[name]

    @property
    def fallback_calendar(self) -> str:
        """The calendar of tickets that no target, team or region assigns."""
        return self.default_calendar or ALWAYS_OPEN


def load_sla_policy(path: str | Path) -> SlaPolicy:
    """Read an SLA policy from a YAML file.

    Raises:
        RulesError: with the line and field of each problem.
    """
    return load_model(SlaPolicy, path)
