"""Routing rules: which agent takes which ticket, and what happens when a ticket waits too long.

A help desk routes work the way a busy restaurant seats guests: the host looks at who is waiting
(a party of four, a booking, someone who asked for the terrace) and at which waiter has a free
table in their section. Our "sections" are teams, skills, languages and channels; the order in
which waiting work and free agents are taken is the *policy*. A routing file reads::

    policy: priority              # fifo | priority | skills | language | least_busy
    language_match: preferred     # required | preferred | ignore
    priorities: [urgent, high, normal, low]    # most urgent first
    rules:                        # top-down, the first match wins
      - when: {channel: chat, language: [zh, ja]}
        team: APAC
      - when: {type: refund}
        skill: billing
        priority: high
    overflow: {after: 10m, to: any}
    escalation:
      - when: {priority: [urgent, high]}
        after: 30m
        to_team: L2
        raise_priority: true
        notify: team_lead

This module only reads and checks the file; ``supportflow.routing`` makes the decisions, so the
simulator and the live service route with the very same rules. ``docs/routing.md`` describes
every field.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from supportflow.rules.durations import Duration
from supportflow.rules.yamlio import fail_at, load_model

POLICIES = ("fifo", "priority", "skills", "language", "least_busy")
"""How queued work and free agents are ordered (see ``supportflow.routing``)."""
LANGUAGE_MATCHES = ("required", "preferred", "ignore")
"""Whether an agent must speak the ticket's language, should, or need not."""
DEFAULT_PRIORITIES = ("urgent", "high", "normal", "low")
ANY_TEAM = "any"
"""``overflow.to`` value that lets agents of every team take overflowing work."""

Policy = Literal["fifo", "priority", "skills", "language", "least_busy"]
LanguageMatch = Literal["required", "preferred", "ignore"]


def _choices(options: tuple[str, ...] | list[str]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]


def _unknown(kind: str, value: object, options: tuple[str, ...] | list[str]) -> ValueError:
    guess = difflib.get_close_matches(str(value), options, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    return ValueError(f"unknown {kind} {value!r}{hint}; choose {_choices(options)}")


def _fail(title: str, problems: list[tuple[tuple[str | int, ...], str, object]]) -> NoReturn:
    fail_at("routing_rules", title, problems)


def _label(value: object) -> str:
    """A label as written; YAML reads ``priority: 2`` as a number, which we take as ``"2"``."""
    if isinstance(value, bool):
        # YAML 1.1 reads yes/no/on/off as booleans; a channel called "on" must be quoted.
        raise ValueError(f"not a label: {value!r} (quote it if you meant the word)")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    raise ValueError(f"not a label: {value!r}")


class RuleMatch(BaseModel):
    """The ``when`` of a rule: every key it names must match; a list gives alternatives.

    A key left out matches anything. Values are compared exactly as written (``zh`` does not
    match ``zh-CN``); a ticket without the attribute (no type, no team) matches no value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: tuple[str, ...] | None = None
    language: tuple[str, ...] | None = None
    priority: tuple[str, ...] | None = None
    type: tuple[str, ...] | None = None
    team: tuple[str, ...] | None = None

    @field_validator("channel", "language", "priority", "type", "team", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return None
        values = value if isinstance(value, list | tuple) else [value]
        if not values:
            raise ValueError("give a value or a list of values; leave the key out to match any")
        return tuple(_label(v) for v in values)


class RoutingRule(BaseModel):
    """One routing rule: when a ticket matches, where it must go (team, skill) and its priority."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: RuleMatch = RuleMatch()
    team: str | None = Field(default=None, min_length=1)
    """The team that must take the ticket (until it overflows)."""
    skill: str | None = Field(default=None, min_length=1)
    """A skill the agent must have."""
    priority: str | None = None
    """A priority label that replaces the ticket's own."""

    @field_validator("priority", mode="before")
    @classmethod
    def _priority_label(cls, value: Any) -> Any:
        return None if value is None else _label(value)

    @model_validator(mode="after")
    def _sets_something(self) -> RoutingRule:
        if self.team is None and self.skill is None and self.priority is None:
            raise ValueError("a rule must set team, skill or priority")
        return self


class Overflow(BaseModel):
    """Work waiting at least ``after`` seconds may be taken by agents of ``to`` (or of any team)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    to: str = Field(default=ANY_TEAM, min_length=1)
    """A team name, or ``any``."""

    @field_validator("after")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(
                "overflow must wait longer than zero; to let every team take the work, "
                "do not route it to a team"
            )
        return value


class EscalationRule(BaseModel):
    """When a matching ticket has waited ``after`` seconds unassigned: move, raise, notify."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: RuleMatch = RuleMatch()
    after: Duration
    to_team: str | None = Field(default=None, min_length=1)
    raise_priority: bool = False
    """Move the ticket one rank up (the most urgent label stays where it is)."""
    notify: str | None = Field(default=None, min_length=1)
    """A label for whoever is told (``team_lead``); routing does not send anything."""

    @model_validator(mode="after")
    def _does_something(self) -> EscalationRule:
        if self.to_team is None and not self.raise_priority and self.notify is None:
            raise ValueError("an escalation must set to_team, raise_priority or notify")
        return self


class RoutingRules(BaseModel):
    """A routing file: the policy, language matching, priority ranks, rules, overflow, escalation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: Policy = "priority"
    language_match: LanguageMatch = "preferred"
    priorities: tuple[str, ...] = DEFAULT_PRIORITIES
    """Priority labels, most urgent first; a label not listed ranks after all of them."""
    rules: tuple[RoutingRule, ...] = ()
    overflow: Overflow | None = None
    escalation: tuple[EscalationRule, ...] = ()

    _ranks: dict[str, int] = PrivateAttr(default_factory=dict)

    @field_validator("policy", mode="before")
    @classmethod
    def _known_policy(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in POLICIES:
            raise _unknown("policy", value, POLICIES)
        return value

    @field_validator("language_match", mode="before")
    @classmethod
    def _known_language_match(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value not in LANGUAGE_MATCHES:
            raise _unknown("language_match", value, LANGUAGE_MATCHES)
        if value == "ignore" and info.data.get("policy") == "language":
            raise ValueError(
                "policy language routes by language: set language_match to preferred or "
                "required, or choose another policy"
            )
        return value

    @field_validator("priorities", mode="before")
    @classmethod
    def _ranked_labels(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value  # pydantic reports the wrong type
        if not value:
            raise ValueError("name at least one priority label, most urgent first")
        labels: list[str] = []
        problems: list[tuple[tuple[str | int, ...], str, object]] = []
        first_at: dict[str, int] = {}
        for index, raw in enumerate(value):
            try:
                label = _label(raw)
            except ValueError as exc:
                problems.append(((index,), str(exc), raw))
                continue
            if label in first_at:
                problems.append(
                    (
                        (index,),
                        f"{label!r} is listed twice (also at priorities[{first_at[label]}]); "
                        "each label has one rank",
                        raw,
                    )
                )
            first_at.setdefault(label, index)
            labels.append(label)
        if problems:
            _fail("priorities", problems)
        return tuple(labels)

    @field_validator("rules")
    @classmethod
    def _known_priority_overrides(
        cls, rules: tuple[RoutingRule, ...], info: ValidationInfo
    ) -> tuple[RoutingRule, ...]:
        if "priorities" not in info.data:
            return rules  # the priorities are invalid: that error is reported already
        labels: tuple[str, ...] = info.data["priorities"]
        problems: list[tuple[tuple[str | int, ...], str, object]] = [
            (
                (index, "priority"),
                str(_unknown("priority", rule.priority, labels)) + " (from priorities)",
                rule.priority,
            )
            for index, rule in enumerate(rules)
            if rule.priority is not None and rule.priority not in labels
        ]
        if problems:
            _fail("rules", problems)
        return rules

    def model_post_init(self, context: Any, /) -> None:
        """Index the priority labels once, so a rank is one dictionary look-up."""
        self._ranks.update((label, rank) for rank, label in enumerate(self.priorities))

    def rank_of(self, priority: str) -> int:
        """The rank of a priority label: 0 is the most urgent; an unknown label ranks last
        (``len(priorities)``)."""
        return self._ranks.get(priority, len(self.priorities))


def load_routing(path: str | Path) -> RoutingRules:
    """Read routing rules from a YAML file.

    Raises:
        RulesError: the file cannot be read or is invalid; the message names line and field.
    """
    return load_model(RoutingRules, path)
