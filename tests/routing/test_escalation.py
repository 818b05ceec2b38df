"""Stories of tickets that wait too long: which escalation is due, when, and what it asks."""

from __future__ import annotations

from typing import Any

from supportflow.routing import Agent, Escalation, Router, RoutingQueue, WorkItem, escalate
from supportflow.rules.routing import RoutingRules

RULES = RoutingRules.model_validate(
    {
        "escalation": [
            {
                "when": {"priority": ["urgent", "high"]},
                "after": "30m",
                "to_team": "L2",
                "raise_priority": True,
                "notify": "team_lead",
            },
            {"when": {"channel": "phone"}, "after": "10m", "notify": "supervisor"},
            {"after": "4h", "notify": "duty_manager"},
        ]
    }
)


def ticket(**fields: Any) -> WorkItem:
    defaults: dict[str, Any] = {
        "id": 1,
        "arrived_s": 1000.0,
        "priority": "high",
        "channel": "chat",
        "language": "en",
        "team": "L1",
    }
    return Router(RULES).classify(WorkItem(**{**defaults, **fields}))


def test_an_escalation_is_due_when_its_wait_has_passed_not_before() -> None:
    high = ticket()
    assert escalate(high, now_s=1000.0 + 1799.9, rules=RULES) is None
    assert escalate(high, now_s=1000.0 + 1800.0, rules=RULES) == Escalation(
        rule_index=0, to_team="L2", new_priority="urgent", notify="team_lead"
    )


def test_the_first_due_matching_rule_wins() -> None:
    urgent_phone = ticket(priority="urgent", channel="phone")
    # At 10 minutes only the phone rule is due.
    assert escalate(urgent_phone, 1000.0 + 600.0, RULES) == Escalation(
        rule_index=1, to_team=None, new_priority=None, notify="supervisor"
    )
    # At 30 minutes the first rule is due too, and comes first; urgent cannot rise further.
    assert escalate(urgent_phone, 1000.0 + 1800.0, RULES) == Escalation(
        rule_index=0, to_team="L2", new_priority=None, notify="team_lead"
    )
    # A normal chat matches neither of the first two rules, only the catch-all at 4 hours.
    normal_chat = ticket(priority="normal")
    assert escalate(normal_chat, 1000.0 + 14399.0, RULES) is None
    assert escalate(normal_chat, 1000.0 + 14400.0, RULES) == Escalation(
        rule_index=2, to_team=None, new_priority=None, notify="duty_manager"
    )


def test_fired_rules_are_skipped() -> None:
    high = ticket()
    late = 1000.0 + 5 * 3600.0
    assert escalate(high, late, RULES, fired={0}) == Escalation(
        rule_index=2, to_team=None, new_priority=None, notify="duty_manager"
    )
    assert escalate(high, late, RULES, fired={0, 2}) is None


def test_an_unlisted_priority_rises_to_the_least_urgent_listed() -> None:
    rules = RoutingRules.model_validate(
        {"priorities": ["P1", "P2", "P3"], "escalation": [{"after": 0, "raise_priority": True}]}
    )
    raised = []
    for label in ("P1", "P2", "P3", "P7"):
        due = escalate(WorkItem(1, 0.0, label, "chat", "en"), 0.0, rules)
        assert due is not None
        raised.append(due.new_priority)
    assert raised == [None, "P1", "P2", "P3"]


def test_an_escalated_ticket_moves_to_its_new_team_in_the_line() -> None:
    router = Router(RULES)
    line = RoutingQueue(router)
    line.push(ticket(id=1))
    line.push(ticket(id=2, priority="low"))
    l1 = Agent(id=1, name="Ann", team="L1", busy=1)
    l2 = Agent(id=2, name="Lou", team="L2")
    fired: dict[int, set[int]] = {}
    now = 1000.0 + 1800.0
    for waiting in line.waiting(now):
        due = escalate(waiting.item, now, RULES, fired=fired.get(waiting.item.id, set()))
        if due is None:
            continue
        fired.setdefault(waiting.item.id, set()).add(due.rule_index)
        moved = line.remove(waiting.item.id)
        assert moved is not None
        line.push(router.apply_escalation(moved, due))
    assert fired == {1: {0}}
    taken = line.pop_for(l2, now)
    assert taken is not None
    assert (taken.id, taken.team, taken.priority, taken.rank) == (1, "L2", "urgent", 0)
    assert line.pop_for(l2, now) is None
    l1.busy = 0
    taken = line.pop_for(l1, now)
    assert taken is not None and taken.id == 2
