"""Stories of routing files written by hand: a good one loads, each mistake names line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.rules import RulesError
from supportflow.rules.routing import RoutingRules, RuleMatch, load_routing

GOOD = """\
policy: priority
language_match: preferred
priorities: [urgent, high, normal, low]
rules:
  - when: {channel: chat, language: [zh, ja]}
    team: APAC
  - when: {type: refund, priority: 2}
    skill: billing
    priority: urgent
overflow:
  after: 10m
  to: any
escalation:
  - when: {priority: [urgent, high]}
    after: 30m
    to_team: L2
    raise_priority: true
    notify: team_lead
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(RulesError) as error:
        load_routing(write(tmp_path, text))
    return str(error.value).replace(str(tmp_path / "routing.yaml"), "routing.yaml")


def test_a_good_file_loads_as_written(tmp_path: Path) -> None:
    rules = load_routing(write(tmp_path, GOOD))
    assert (rules.policy, rules.language_match) == ("priority", "preferred")
    assert rules.priorities == ("urgent", "high", "normal", "low")
    apac, refunds = rules.rules
    assert apac.when == RuleMatch(channel=("chat",), language=("zh", "ja"))
    assert (apac.team, apac.skill, apac.priority) == ("APAC", None, None)
    # A single value is a list of one; YAML's number 2 is the label "2".
    assert refunds.when == RuleMatch(type=("refund",), priority=("2",))
    assert (refunds.team, refunds.skill, refunds.priority) == (None, "billing", "urgent")
    assert rules.overflow is not None
    assert (rules.overflow.after, rules.overflow.to) == (600.0, "any")
    (escalation,) = rules.escalation
    assert escalation.when.priority == ("urgent", "high")
    assert (escalation.after, escalation.to_team) == (1800.0, "L2")
    assert (escalation.raise_priority, escalation.notify) == (True, "team_lead")
    assert RoutingRules.model_validate(rules.model_dump()) == rules


def test_defaults_are_priority_routing_with_preferred_language(tmp_path: Path) -> None:
    rules = load_routing(write(tmp_path, "policy: fifo\n"))
    assert rules.policy == "fifo"
    assert rules.language_match == "preferred"
    assert rules.priorities == ("urgent", "high", "normal", "low")
    assert (rules.rules, rules.overflow, rules.escalation) == ((), None, ())
    assert RoutingRules().policy == "priority"


def test_ranks_follow_the_list_and_unknown_labels_come_last() -> None:
    rules = RoutingRules(priorities=("P1", "P2", "P3"))
    assert [rules.rank_of(label) for label in ("P1", "P2", "P3", "P9", "urgent")] == [0, 1, 2, 3, 3]


def test_unknown_policy_language_match_and_keys_name_their_field(tmp_path: Path) -> None:
    text = """\
policy: prio
language_match: requird
rules:
  - when: {channel: chat, queue: vip}
    team: VIP
    agent: bob
overflow: {after: 10m, to: any, when: always}
"""
    assert error_of(tmp_path, text).splitlines() == [
        "routing.yaml:1: policy: unknown policy 'prio' (did you mean 'priority'?); "
        "choose fifo, priority, skills, language or least_busy",
        "routing.yaml:2: language_match: unknown language_match 'requird' "
        "(did you mean 'required'?); choose required, preferred or ignore",
        "routing.yaml:4: rules[0].when.queue: Extra inputs are not permitted",
        "routing.yaml:6: rules[0].agent: Extra inputs are not permitted",
        "routing.yaml:7: overflow.when: Extra inputs are not permitted",
    ]


def test_bad_durations_name_their_line(tmp_path: Path) -> None:
    text = """\
overflow:
  after: 10 mins please
escalation:
  - after: 3 dayz
    notify: lead
  - after: -5m
    notify: lead
"""
    assert error_of(tmp_path, text).splitlines() == [
        "routing.yaml:2: overflow.after: not a duration: '10 mins please' "
        "(use 90s, 15m, 4h, 2d or 1h30m)",
        "routing.yaml:4: escalation[0].after: not a duration: '3 dayz' "
        "(use 90s, 15m, 4h, 2d or 1h30m)",
        "routing.yaml:6: escalation[1].after: not a duration: '-5m' "
        "(use 90s, 15m, 4h, 2d or 1h30m)",
    ]


def test_overflow_needs_a_wait_and_escalation_a_time(tmp_path: Path) -> None:
    text = """\
overflow: {after: 0}
escalation:
  - notify: lead
"""
    assert error_of(tmp_path, text).splitlines() == [
        "routing.yaml:1: overflow.after: overflow must wait longer than zero; to let every team "
        "take the work, do not route it to a team",
        "routing.yaml:3: escalation[0].after: Field required",
    ]


def test_a_rule_must_set_something(tmp_path: Path) -> None:
    text = """\
rules:
  - when: {channel: chat}
    team: Chat
  - when: {channel: email}
escalation:
  - when: {priority: urgent}
    after: 30m
    raise_priority: false
"""
    assert error_of(tmp_path, text).splitlines() == [
        "routing.yaml:4: rules[1]: a rule must set team, skill or priority",
        "routing.yaml:6: escalation[0]: an escalation must set to_team, raise_priority or notify",
    ]


def test_priority_labels_are_unique_and_overrides_known(tmp_path: Path) -> None:
    text = """\
priorities: [urgent, high, normal, high, low]
rules:
  - when: {type: refund}
    priority: urgnet
"""
    # The override is not checked against a list that is itself wrong.
    assert error_of(tmp_path, text).splitlines() == [
        "routing.yaml:1: priorities[3]: 'high' is listed twice (also at priorities[1]); "
        "each label has one rank",
    ]
    fixed = text.replace("normal, high,", "normal,")
    assert error_of(tmp_path, fixed).splitlines() == [
        "routing.yaml:4: rules[0].priority: unknown priority 'urgnet' (did you mean 'urgent'?); "
        "choose urgent, high, normal or low (from priorities)",
    ]
    assert error_of(tmp_path, "priorities: []\n") == (
        "routing.yaml:1: priorities: name at least one priority label, most urgent first"
    )


def test_match_values_are_labels(tmp_path: Path) -> None:
    text = """\
rules:
  - when: {channel: [], language: yes}
    team: A
  - when: {team: {name: A}}
    team: B
"""
    assert error_of(tmp_path, text).splitlines() == [
        "routing.yaml:2: rules[0].when.channel: give a value or a list of values; "
        "leave the key out to match any",
        "routing.yaml:2: rules[0].when.language: not a label: True (quote it if you meant the word)",
        "routing.yaml:4: rules[1].when.team: not a label: {'name': 'A'}",
    ]


def test_language_policy_needs_language_matching(tmp_path: Path) -> None:
    assert error_of(tmp_path, "policy: language\nlanguage_match: ignore\n") == (
        "routing.yaml:2: language_match: policy language routes by language: set "
        "language_match to preferred or required, or choose another policy"
    )
    assert load_routing(write(tmp_path, "policy: language\n")).language_match == "preferred"


def test_the_documented_file_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "routing.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = load_routing(write(tmp_path, example))
    assert rules.policy == "priority"
    assert [rule.team for rule in rules.rules] == ["APAC", None, None]
    assert [rule.after for rule in rules.escalation] == [1800.0, 14400.0]
