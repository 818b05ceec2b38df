"""Alert rules: when a service KPI goes wrong, say so, once, and say when it is fine again.

A team lead writes rules such as "the p90 first response over the last 2 hours is above 12
minutes", "SLA attainment today is below 90 %" or "more than 200 tickets are open". Each rule
names a KPI, the statistic taken over a time window, one condition (a threshold, or a relative
change against the previous window of the same length), the smallest sample worth judging, how
long the condition must hold before anyone is disturbed (``for``) and a severity. ``docs/alerts.md`` describes the format; this module only reads and checks it, so
the ``monitor`` replay and the live service use the very same rules.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from supportflow.rules.durations import Duration, parse_duration
from supportflow.rules.yamlio import load_model

KpiName = Literal[
    "first_response_time",
    "time_to_assign",
    "resolution_time",
    "handling_time",
    "sla_first_response_attainment",
    "sla_resolution_attainment",
    "backlog",
    "arrivals",
    "resolutions",
    "reopens",
    "csat",
]
StatisticName = Literal["count", "mean", "median", "p90", "p95", "max", "share", "value"]
Severity = Literal["info", "warning", "critical"]
Window = float | Literal["today"]
"""Seconds, or ``"today"``: since the last local midnight in the rules' time zone."""

TIME_KPIS = ("first_response_time", "time_to_assign", "resolution_time", "handling_time")
ATTAINMENT_KPIS = ("sla_first_response_attainment", "sla_resolution_attainment")
COUNT_KPIS = ("arrivals", "resolutions", "reopens")
LEVEL_KPIS = ("backlog",)
_DISTRIBUTION = ("count", "mean", "median", "p90", "p95", "max")
STATISTICS: dict[str, tuple[str, ...]] = {
    **{kpi: _DISTRIBUTION for kpi in TIME_KPIS},
    **{kpi: ("share", "count") for kpi in ATTAINMENT_KPIS},
    "backlog": ("value",),
    **{kpi: ("count",) for kpi in COUNT_KPIS},
    "csat": ("mean", "median", "p90", "p95", "max", "count"),
}
"""The statistics each KPI allows; the first is its default (time KPIs have none)."""
CONDITIONS = ("above", "below", "change_above", "change_below")
_PERCENT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*%$")


def _choices(options: tuple[str, ...] | list[str]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]


def _unknown(kind: str, value: object, options: tuple[str, ...]) -> ValueError:
    guess = difflib.get_close_matches(str(value), options, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    return ValueError(f"unknown {kind} {value!r}{hint}; choose {_choices(options)}")


def parse_share(value: object) -> float:
    """A share from ``"90%"``, ``"92.5 %"`` or ``0.9`` (→ 0.9).

    Raises:
        ValueError: not a percentage or a fraction between 0 and 1.
    """
    share = _fraction(value, "share", "write 90% or 0.9")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is between 0% and 100% (write 90% or 0.9), not {value!r}")
    return share


def parse_change(value: object) -> float:
    """A relative change from ``"+50%"``, ``"-20%"`` or ``0.5`` (→ 0.5).

    Raises:
        ValueError: not a percentage or a fraction, or a fall of more than 100 %.
    """
    change = _fraction(value, "relative change", "write +50% or -20%")
    if change < -1.0:
        raise ValueError(f"a value cannot fall by more than 100%: {value!r}")
    return change


def _fraction(value: object, kind: str, forms: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"not a {kind}: {value!r} ({forms})")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _PERCENT.match(value.strip())
        if match:
            return float(match.group(1)) / 100.0
    raise ValueError(f"not a {kind}: {value!r} ({forms})")


def _whole_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a count is a whole number, not {value!r}")
    if value < 0 or float(value) != int(value):
        raise ValueError(f"a count is a whole number of at least 0, not {value!r}")
    return float(value)


def _score(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a CSAT threshold is a number, not {value!r}")
    return float(value)


def threshold_unit(kpi: str, statistic: str) -> Literal["seconds", "share", "count", "score"]:
    """What a rule's figure measures: seconds, a share (0..1), a count or a CSAT score."""
    if statistic in ("count", "value"):
        return "count"
    if statistic == "share":
        return "share"
    return "seconds" if kpi in TIME_KPIS else "score"


_PARSERS = {
    "seconds": parse_duration,
    "share": parse_share,
    "count": _whole_number,
    "score": _score,
}


class AlertFilter(BaseModel):
    """Only tickets with these dimension values (the ticket's values in ``kpi_tickets``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: str | None = None
    team: str | None = None
    channel: str | None = None
    region: str | None = None
    language: str | None = None

    def conditions(self) -> list[tuple[str, str]]:
        """``(column, value)`` for every dimension the filter names, in field order."""
        return [(name, value) for name, value in self.model_dump().items() if value is not None]


class AlertRule(BaseModel):
    """One alert: a KPI's statistic over a window, one condition, a minimum sample, a severity."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    kpi: KpiName
    statistic: StatisticName = Field(default=None, validate_default=True)
    window: Window | None = Field(default=None, validate_default=True)
    above: float | None = None
    below: float | None = None
    change_above: float | None = None
    change_below: float | None = None
    min_sample: int = Field(default=None, validate_default=True, ge=0)
    hold: Duration = Field(default=0.0, alias="for")
    """Seconds the condition must hold before the alert fires (YAML key ``for``)."""
    severity: Severity = "warning"
    where: AlertFilter | None = None

    @field_validator("kpi", mode="before")
    @classmethod
    def _known_kpi(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in STATISTICS:
            raise _unknown("KPI", value, tuple(STATISTICS))
        return value

    @field_validator("statistic", mode="before")
    @classmethod
    def _statistic_fits_kpi(cls, value: Any, info: ValidationInfo) -> Any:
        kpi = info.data.get("kpi")
        if kpi is None:
            return value if value is not None else "count"  # the KPI's own error is reported
        allowed = STATISTICS[kpi]
        if value is None:
            if kpi in TIME_KPIS:
                raise ValueError(f"{kpi} needs a statistic: {_choices(allowed)}")
            return allowed[0]
        if kpi in LEVEL_KPIS and value != "value":
            raise ValueError(
                f"{kpi} is a level, not a distribution: its statistic is 'value', not {value!r}"
            )
        if isinstance(value, str) and value not in allowed:
            if value not in ("count", "mean", "median", "p90", "p95", "max", "share", "value"):
                raise _unknown("statistic", value, allowed)
            raise ValueError(f"{value!r} does not apply to {kpi}; choose {_choices(allowed)}")
        return value

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            if info.data.get("kpi") not in (None, *LEVEL_KPIS):
                raise ValueError("a window is needed: a duration such as 2h or 7d, or 'today'")
            return None
        if value == "today":
            return value
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError(f"a window must be longer than zero, not {value!r}")
        return seconds

    @field_validator(*CONDITIONS, mode="before")
    @classmethod
    def _condition(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        assert info.field_name is not None
        earlier = [
            c
            for c in CONDITIONS[: CONDITIONS.index(info.field_name)]
            if info.data.get(c) is not None
        ]
        if earlier:
            raise ValueError(
                f"a rule has exactly one condition, and this one already has {earlier[0]!r}"
            )
        if info.field_name.startswith("change_"):
            if info.data.get("window") == "today":
                raise ValueError(
                    "a relative change needs a fixed window such as 24h: 'today' has no previous window of the same length"
                )
            if info.data.get("window") is None and info.data.get("kpi") in LEVEL_KPIS:
                raise ValueError(
                    "a relative change compares with one window earlier: give a window such as 24h"
                )
            return parse_change(value)
        kpi, statistic = info.data.get("kpi"), info.data.get("statistic")
        if kpi is None or statistic is None:
            return None  # the KPI's or statistic's own error is reported
        return _PARSERS[threshold_unit(kpi, statistic)](value)

    @field_validator("min_sample", mode="before")
    @classmethod
    def _default_min_sample(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            # A count or a level is meaningful at zero ("no arrivals today"); a median of no
            # tickets is not.
            return 0 if info.data.get("statistic") in ("count", "value") else 1
        return value

    @model_validator(mode="after")
    def _one_condition(self) -> AlertRule:
        if self.condition is None:
            raise ValueError(f"give a condition: {_choices(CONDITIONS)}")
        if (
            self.kpi in LEVEL_KPIS
            and self.window is not None
            and self.condition[0] in ("above", "below")
        ):
            raise ValueError(
                f"{self.kpi} is a level: a window only sets how far back change_above or change_below compare"
            )
        return self

    @property
    def condition(self) -> tuple[str, float] | None:
        """``(condition name, threshold)``, e.g. ``("above", 720.0)``."""
        for name in CONDITIONS:
            threshold = getattr(self, name)
            if threshold is not None:
                return name, float(threshold)
        return None

    @property
    def unit(self) -> Literal["seconds", "share", "count", "score"]:
        """The unit of the statistic (a relative change is a fraction whatever the unit)."""
        return threshold_unit(self.kpi, self.statistic)

    def describe(self) -> str:
        """The rule in one line: ``p90 first_response_time > 12m over 2h (min sample 5)``."""
        condition = self.condition
        assert condition is not None
        name, threshold = condition
        plain = self.statistic in ("value", "share")
        figure = self.kpi if plain else f"{self.statistic} {self.kpi}"
        if name.startswith("change_"):
            sign = ">" if name == "change_above" else "<"
            text = f"{figure} change {sign} {figure_text(threshold, 'fraction')} vs the previous {_window_text(self.window)}"
        else:
            sign = ">" if name == "above" else "<"
            text = f"{figure} {sign} {figure_text(threshold, self.unit)}"
            if self.window == "today":
                text += " today"
            elif self.window is not None:
                text += f" over {_window_text(self.window)}"
        if self.hold:
            text += f" for {_duration_text(self.hold)}"
        if self.where is not None:
            text += " where " + ", ".join(f"{k}={v}" for k, v in self.where.conditions())
        return text


def figure_text(value: float, unit: str) -> str:
    """A figure for people: ``26m``, ``5.29d``, ``92.5%``, ``+100%`` (a ``fraction`` is a
    relative change), ``200``, ``4.25``."""
    if unit == "seconds":
        return _duration_text(value)
    if unit == "share":
        return f"{_number(value * 100)}%"
    if unit == "fraction":
        return f"{'+' if value >= 0 else '-'}{_number(abs(value) * 100)}%"
    return _number(value)


def _number(value: float) -> str:
    """Three significant digits, never an exponent: 2.5, 66.7, 1500."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{float(f'{value:.3g}'):g}"


def _duration_text(seconds: float) -> str:
    for size, suffix in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{_number(seconds / size)}{suffix}"
    return f"{_number(seconds)}s"


def _window_text(window: Window | None) -> str:
    return "today" if window == "today" else _duration_text(float(window or 0))


class AlertRules(BaseModel):
    """A rule file: the time zone that defines "today" and the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    rules: list[AlertRule] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)"
            ) from None
        return value

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[AlertRule]) -> list[AlertRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; a name identifies an alert")
            seen.add(rule.name)
        return rules

    @property
    def needs_sla(self) -> bool:
        """Whether a rule reads SLA outcomes (so ``kpi_sla`` must be built first)."""
        return any(rule.kpi in ATTAINMENT_KPIS for rule in self.rules)


def load_alert_rules(path: str | Path) -> AlertRules:
    """Read alert rules from a YAML file.

    Raises:
        RulesError: the file cannot be read or is invalid; the message names line and field.
    """
    return load_model(AlertRules, path)
