"""Stories of one ticket and a few agents: who gets the ticket, and why."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from supportflow.routing import Agent, Router, WorkItem
from supportflow.rules.routing import RoutingRules

NEVER = float("-inf")


def router(**rules: Any) -> Router:
    return Router(RoutingRules.model_validate(rules))


def ticket(**fields: Any) -> WorkItem:
    defaults: dict[str, Any] = {
        "id": 1,
        "arrived_s": 0.0,
        "priority": "normal",
        "channel": "chat",
        "language": "en",
    }
    return WorkItem(**{**defaults, **fields})


def agent(agent_id: int, name: str, team: str = "Support", **fields: Any) -> Agent:
    return Agent(id=agent_id, name=name, team=team, **fields)


def names(chosen: Agent | None) -> str | None:
    return None if chosen is None else chosen.name


# --- classify -----------------------------------------------------------------------------


def test_the_first_matching_rule_sets_what_it_names() -> None:
    desk = router(
        rules=[
            {"when": {"channel": "chat", "language": ["zh", "ja"]}, "team": "APAC"},
            {"when": {"language": "zh"}, "team": "China", "skill": "mandarin"},
            {"when": {"type": "refund"}, "skill": "billing", "priority": "high"},
        ]
    )
    chat_zh = desk.classify(ticket(language="zh", skill="vip"))
    # The first rule wins; it names no skill, so the ticket keeps its own.
    assert (chat_zh.team, chat_zh.skill, chat_zh.priority, chat_zh.rank) == (
        "APAC",
        "vip",
        "normal",
        2,
    )
    email_zh = desk.classify(ticket(channel="email", language="zh"))
    assert (email_zh.team, email_zh.skill) == ("China", "mandarin")
    refund = desk.classify(ticket(type="refund", team="Web"))
    assert (refund.team, refund.skill, refund.priority, refund.rank) == (
        "Web",
        "billing",
        "high",
        1,
    )


def test_no_rule_keeps_the_ticket_and_unknown_priorities_rank_last() -> None:
    desk = router(rules=[{"when": {"type": "refund"}, "skill": "billing"}])
    original = ticket(priority="P9", team="Web")
    classified = desk.classify(original)
    assert classified == replace(original, rank=4)
    # classify returns a copy: the caller's item is untouched.
    assert original.rank == 0
    assert desk.classify(ticket(priority="urgent")).rank == 0


def test_a_ticket_without_a_type_matches_no_type_condition() -> None:
    desk = router(rules=[{"when": {"type": "refund"}, "team": "Billing"}])
    assert desk.classify(ticket(type=None)).team is None


# --- policies -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["fifo", "priority", "language"])
def test_the_longest_idle_agent_takes_the_ticket(policy: str) -> None:
    ana = agent(1, "Ana", last_assigned_s=100.0)
    ben = agent(2, "Ben", last_assigned_s=40.0)
    cy = agent(3, "Cy", last_assigned_s=70.0)
    desk = router(policy=policy)
    assert names(desk.pick_agent(ticket(), [ana, ben, cy], now_s=120.0)) == "Ben"
    # Someone who has had no work yet has been idle longest of all.
    dee = agent(4, "Dee", last_assigned_s=NEVER)
    assert names(desk.pick_agent(ticket(), [ana, ben, cy, dee], now_s=120.0)) == "Dee"


def test_skills_policy_keeps_the_generalist_free() -> None:
    billing_only = agent(1, "Bill", skills=frozenset({"billing"}), last_assigned_s=100.0)
    generalist = agent(
        2, "Gina", skills=frozenset({"billing", "tech", "sales"}), last_assigned_s=0.0
    )
    no_skills = agent(3, "Ned", last_assigned_s=NEVER)
    refund = ticket(skill="billing")
    everyone = [billing_only, generalist, no_skills]
    # Gina has idled longer, but only she can take tech and sales work.
    assert names(router(policy="skills").pick_agent(refund, everyone, 120.0)) == "Bill"
    # Under priority routing the longest idle agent with the skill takes it.
    assert names(router(policy="priority").pick_agent(refund, everyone, 120.0)) == "Gina"
    # Ned has no skills: work that needs one never goes to him, work that needs none does.
    assert names(router(policy="skills").pick_agent(refund, [no_skills], 120.0)) is None
    assert names(router(policy="skills").pick_agent(ticket(), everyone, 120.0)) == "Ned"


def test_least_busy_balances_occupancy_before_idle_time() -> None:
    one_of_three = agent(1, "Ana", concurrency=3, busy=1, last_assigned_s=90.0)
    one_of_two = agent(2, "Ben", concurrency=2, busy=1, last_assigned_s=10.0)
    two_of_three = agent(3, "Cy", concurrency=3, busy=2, last_assigned_s=NEVER)
    desk = router(policy="least_busy")
    assert names(desk.pick_agent(ticket(), [one_of_two, two_of_three, one_of_three], 100.0)) == (
        "Ana"
    )
    # Equal occupancy (2/6 = 1/3): the longest idle of the two.
    two_of_six = agent(4, "Dee", concurrency=6, busy=2, last_assigned_s=50.0)
    assert names(desk.pick_agent(ticket(), [one_of_three, two_of_six], 100.0)) == "Dee"
    # Under priority routing occupancy does not count: Cy has never been assigned.
    assert names(
        router(policy="priority").pick_agent(
            ticket(), [one_of_two, two_of_three, one_of_three], 100.0
        )
    ) == ("Cy")


# --- language -----------------------------------------------------------------------------


def test_preferred_language_puts_speakers_first_but_lets_others_help() -> None:
    ben = agent(1, "Ben", languages=frozenset({"en"}), last_assigned_s=0.0)
    mei = agent(2, "Mei", languages=frozenset({"zh", "en"}), last_assigned_s=100.0)
    chinese = ticket(language="zh")
    desk = router(language_match="preferred")
    # Ben has idled longer, but Mei writes Chinese.
    assert names(desk.pick_agent(chinese, [ben, mei], 120.0)) == "Mei"
    mei.busy = 1
    assert names(desk.pick_agent(chinese, [ben, mei], 120.0)) == "Ben"
    # An agent with no languages listed speaks all and counts as a match.
    anyone = agent(3, "Any", last_assigned_s=50.0)
    assert names(desk.pick_agent(chinese, [ben, anyone], 120.0)) == "Any"


def test_required_language_leaves_the_ticket_waiting() -> None:
    ben = agent(1, "Ben", languages=frozenset({"en"}), last_assigned_s=0.0)
    mei = agent(2, "Mei", languages=frozenset({"zh"}), busy=1)
    desk = router(language_match="required")
    assert desk.pick_agent(ticket(language="zh"), [ben, mei], 120.0) is None
    anyone = agent(3, "Any")
    assert names(desk.pick_agent(ticket(language="zh"), [ben, mei, anyone], 120.0)) == "Any"


def test_ignored_language_is_plain_longest_idle() -> None:
    ben = agent(1, "Ben", languages=frozenset({"en"}), last_assigned_s=0.0)
    mei = agent(2, "Mei", languages=frozenset({"zh"}), last_assigned_s=100.0)
    desk = router(language_match="ignore")
    assert names(desk.pick_agent(ticket(language="zh"), [ben, mei], 120.0)) == "Ben"


# --- channel, concurrency, shift ------------------------------------------------------------


def test_only_agents_serving_the_channel_take_it() -> None:
    email_only = agent(1, "Eve", channels=frozenset({"email"}), last_assigned_s=NEVER)
    chat_and_phone = agent(2, "Pat", channels=frozenset({"chat", "phone"}), last_assigned_s=5.0)
    every_channel = agent(3, "Al", last_assigned_s=10.0)
    desk = router()
    assert names(desk.pick_agent(ticket(channel="chat"), [email_only, chat_and_phone], 20.0)) == (
        "Pat"
    )
    assert names(
        desk.pick_agent(ticket(channel="email"), [chat_and_phone, every_channel], 20.0)
    ) == ("Al")
    assert desk.pick_agent(ticket(channel="phone"), [email_only], 20.0) is None


def test_a_chat_agent_with_concurrency_three_takes_a_third_chat_not_a_fourth() -> None:
    sam = agent(1, "Sam", concurrency=3)
    desk = router()
    taken = []
    for number in range(1, 5):
        chosen = desk.pick_agent(ticket(id=number), [sam], now_s=float(number))
        if chosen is not None:
            # The caller marks the agent busy; routing never does.
            chosen.busy += 1
            chosen.last_assigned_s = float(number)
            taken.append(number)
    assert taken == [1, 2, 3]
    assert sam.busy == 3


def test_off_shift_agents_are_skipped() -> None:
    gone = agent(1, "Gone", on_shift=False, last_assigned_s=NEVER)
    here = agent(2, "Here", last_assigned_s=100.0)
    desk = router()
    assert names(desk.pick_agent(ticket(), [gone, here], 120.0)) == "Here"
    assert desk.pick_agent(ticket(), [gone], 120.0) is None


def test_pick_agent_does_not_change_the_agents() -> None:
    agents = [agent(1, "Ana", concurrency=2), agent(2, "Ben", busy=0)]
    before = [replace(a) for a in agents]
    router(policy="least_busy").pick_agent(ticket(), agents, 10.0)
    assert agents == before


# --- teams and overflow ---------------------------------------------------------------------


def test_overflow_opens_other_teams_after_the_timeout() -> None:
    apac = agent(1, "Mei", team="APAC", busy=1)
    emea = agent(2, "Ola", team="EMEA")
    l2 = agent(3, "Lou", team="L2", last_assigned_s=NEVER)
    waiting = ticket(team="APAC", arrived_s=1000.0)
    to_any = router(overflow={"after": "10m", "to": "any"})
    assert to_any.pick_agent(waiting, [apac, emea], now_s=1599.0) is None
    # At exactly ten minutes it overflows.
    assert names(to_any.pick_agent(waiting, [apac, emea], now_s=1600.0)) == "Ola"
    to_l2 = router(overflow={"after": "10m", "to": "L2"})
    assert to_l2.pick_agent(waiting, [apac, emea], now_s=5000.0) is None
    assert names(to_l2.pick_agent(waiting, [apac, emea, l2], now_s=1600.0)) == "Lou"
    # Without overflow a team's ticket waits for its team, however long.
    assert router().pick_agent(waiting, [emea, l2], now_s=1e9) is None


def test_a_ticket_without_a_team_goes_to_any_team() -> None:
    apac = agent(1, "Mei", team="APAC", last_assigned_s=5.0)
    emea = agent(2, "Ola", team="EMEA", last_assigned_s=1.0)
    assert names(router().pick_agent(ticket(team=None), [apac, emea], 10.0)) == "Ola"


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["fifo", "priority", "skills", "language", "least_busy"])
def test_ties_go_to_the_lowest_id_whatever_the_order(policy: str) -> None:
    twins = [agent(agent_id, f"A{agent_id}", last_assigned_s=5.0) for agent_id in (7, 3, 9)]
    desk = router(policy=policy)
    assert names(desk.pick_agent(ticket(), twins, 10.0)) == "A3"
    assert names(desk.pick_agent(ticket(), list(reversed(twins)), 10.0)) == "A3"


def test_can_take_states_the_same_conditions_as_pick_agent() -> None:
    desk = router(language_match="required", overflow={"after": 60, "to": "L2"})
    work = ticket(team="APAC", skill="billing", language="zh", channel="chat", arrived_s=0.0)
    candidates = [
        agent(1, "ok", team="APAC", skills=frozenset({"billing"})),
        agent(2, "team", team="EMEA", skills=frozenset({"billing"})),
        agent(3, "skill", team="APAC"),
        agent(4, "lang", team="APAC", skills=frozenset({"billing"}), languages=frozenset({"en"})),
        agent(5, "chan", team="APAC", skills=frozenset({"billing"}), channels=frozenset({"phone"})),
        agent(6, "full", team="APAC", skills=frozenset({"billing"}), busy=1),
        agent(7, "l2", team="L2", skills=frozenset({"billing"})),
    ]
    assert [a.name for a in candidates if desk.can_take(a, work, 30.0)] == ["ok"]
    assert [a.name for a in candidates if desk.can_take(a, work, 60.0)] == ["ok", "l2"]
    assert names(desk.pick_agent(work, candidates[1:], 30.0)) is None
    assert names(desk.pick_agent(work, candidates[1:], 60.0)) == "l2"
