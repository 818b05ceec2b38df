"""Stories of the waiting line: which ticket an agent who frees up takes next."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.routing import Agent, Router, RoutingQueue, Waiting, WorkItem
from supportflow.rules.routing import RoutingRules


def queue_of(**rules: Any) -> RoutingQueue:
    return RoutingQueue(Router(RoutingRules.model_validate(rules)))


def ticket(queue: RoutingQueue, item_id: int, arrived_s: float, **fields: Any) -> WorkItem:
    defaults: dict[str, Any] = {"priority": "normal", "channel": "chat", "language": "en"}
    item = WorkItem(id=item_id, arrived_s=arrived_s, **{**defaults, **fields})
    return queue.router.classify(item)


def fill(queue: RoutingQueue, *items: WorkItem) -> None:
    for item in items:
        queue.push(item)


def drain(queue: RoutingQueue, agent: Agent, now_s: float) -> list[int]:
    taken = []
    while (item := queue.pop_for(agent, now_s)) is not None:
        taken.append(item.id)
    return taken


ANA = Agent(id=1, name="Ana", team="Support")


def test_priority_takes_the_most_urgent_then_the_oldest() -> None:
    line = queue_of(policy="priority")
    fill(
        line,
        ticket(line, 1, 0.0, priority="normal"),
        ticket(line, 2, 50.0, priority="urgent"),
        ticket(line, 3, 10.0, priority="high"),
        ticket(line, 4, 5.0, priority="normal"),
        ticket(line, 5, 5.0, priority="P9"),
        ticket(line, 6, 5.0, priority="high", channel="email"),
    )
    # urgent; the two highs by arrival (another channel is another bucket, same order); the
    # two normals by arrival; the unknown label last.
    assert drain(line, ANA, now_s=60.0) == [2, 6, 3, 1, 4, 5]
    assert len(line) == 0


def test_fifo_ignores_priority_and_breaks_ties_by_id() -> None:
    line = queue_of(policy="fifo")
    fill(
        line,
        ticket(line, 3, 10.0, priority="urgent"),
        ticket(line, 2, 0.0, priority="low"),
        ticket(line, 1, 10.0, priority="low", channel="email"),
    )
    assert drain(line, ANA, now_s=60.0) == [2, 1, 3]


def test_preferred_language_comes_before_priority() -> None:
    line = queue_of(policy="priority", language_match="preferred")
    fill(
        line,
        ticket(line, 1, 0.0, priority="urgent", language="zh"),
        ticket(line, 2, 100.0, priority="low", language="en"),
    )
    english = Agent(id=1, name="Ben", team="Support", languages=frozenset({"en"}))
    # Ben takes the low English ticket first, then helps with the Chinese one.
    assert drain(line, english, now_s=200.0) == [2, 1]


def test_required_language_never_hands_over_other_languages() -> None:
    line = queue_of(language_match="required")
    fill(line, ticket(line, 1, 0.0, language="zh"), ticket(line, 2, 100.0, language="en"))
    english = Agent(id=1, name="Ben", team="Support", languages=frozenset({"en"}))
    assert drain(line, english, now_s=200.0) == [2]
    assert len(line) == 1
    speaks_all = Agent(id=2, name="Any", team="Support")
    assert drain(line, speaks_all, now_s=200.0) == [1]


def test_ignored_language_is_plain_priority() -> None:
    line = queue_of(language_match="ignore")
    fill(
        line,
        ticket(line, 1, 0.0, priority="urgent", language="zh"),
        ticket(line, 2, 100.0, priority="low", language="en"),
    )
    english = Agent(id=1, name="Ben", team="Support", languages=frozenset({"en"}))
    assert drain(line, english, now_s=200.0) == [1, 2]


def test_skills_channels_and_teams_limit_what_an_agent_takes() -> None:
    line = queue_of()
    fill(
        line,
        ticket(line, 1, 0.0, skill="billing"),
        ticket(line, 2, 1.0, channel="email"),
        ticket(line, 3, 2.0, team="EMEA"),
        ticket(line, 4, 3.0, team="Support"),
        ticket(line, 5, 4.0),
    )
    chat_only = Agent(id=1, name="Cat", team="Support", channels=frozenset({"chat"}))
    assert drain(line, chat_only, now_s=10.0) == [4, 5]
    billing = Agent(id=2, name="Bill", team="EMEA", skills=frozenset({"billing"}))
    assert drain(line, billing, now_s=10.0) == [1, 2, 3]


def test_an_agent_without_a_free_slot_or_off_shift_gets_nothing() -> None:
    line = queue_of()
    fill(line, ticket(line, 1, 0.0))
    full = Agent(id=1, name="Sam", team="Support", concurrency=3, busy=3)
    away = Agent(id=2, name="Ola", team="Support", on_shift=False)
    assert line.pop_for(full, now_s=5.0) is None
    assert line.pop_for(away, now_s=5.0) is None
    assert len(line) == 1
    full.busy = 2
    assert drain(line, full, now_s=5.0) == [1]


def test_overflow_opens_another_teams_bucket_once_its_head_has_waited() -> None:
    line = queue_of(policy="priority", overflow={"after": "5m", "to": "any"})
    fill(
        line,
        ticket(line, 1, 0.0, team="EMEA", priority="low"),
        ticket(line, 2, 590.0, team="EMEA", priority="urgent"),
    )
    mei = Agent(id=1, name="Mei", team="APAC")
    # Ticket 1 has waited 10 minutes, but the head of EMEA's line is urgent ticket 2, which has
    # waited 10 seconds: overflow looks at heads only.
    assert line.pop_for(mei, now_s=600.0) is None
    assert line.pop_for(mei, now_s=890.0) is not None
    assert line.pop_for(mei, now_s=890.0) is not None
    assert len(line) == 0


def test_overflow_to_a_named_team() -> None:
    line = queue_of(overflow={"after": 60, "to": "L2"})
    fill(line, ticket(line, 1, 0.0, team="EMEA"))
    apac = Agent(id=1, name="Mei", team="APAC")
    l2 = Agent(id=2, name="Lou", team="L2")
    assert line.pop_for(apac, now_s=1000.0) is None
    assert line.pop_for(l2, now_s=59.0) is None
    assert drain(line, l2, now_s=60.0) == [1]


def test_own_work_and_overflow_compete_by_the_same_order() -> None:
    line = queue_of(policy="priority", overflow={"after": 60, "to": "any"})
    fill(
        line,
        ticket(line, 1, 100.0, team="APAC", priority="normal"),
        ticket(line, 2, 0.0, team="EMEA", priority="high"),
    )
    mei = Agent(id=1, name="Mei", team="APAC")
    assert drain(line, mei, now_s=120.0) == [2, 1]


def test_an_abandoned_ticket_is_never_handed_over() -> None:
    line = queue_of()
    fill(line, ticket(line, 1, 0.0), ticket(line, 2, 1.0), ticket(line, 3, 2.0))
    gone = line.remove(1)
    assert gone is not None and gone.id == 1
    assert line.remove(1) is None
    assert line.remove(99) is None
    assert len(line) == 2
    assert 1 not in line and 2 in line
    assert drain(line, ANA, now_s=10.0) == [2, 3]


def test_a_removed_ticket_may_come_back_changed_and_waits_once() -> None:
    line = queue_of()
    first = ticket(line, 1, 0.0, priority="urgent")
    fill(line, first, ticket(line, 2, 1.0, priority="normal"))
    assert line.remove(1) is first
    # Back as low priority: its old urgent entry must not hand it over first.
    line.push(ticket(line, 1, 0.0, priority="low"))
    taken = [line.pop_for(ANA, now_s=10.0) for _ in range(3)]
    assert [(t.id, t.priority) if t else None for t in taken] == [(2, "normal"), (1, "low"), None]


def test_many_removals_keep_the_order() -> None:
    # Enough abandonment to rebuild the heaps on the way.
    line = queue_of()
    fill(line, *(ticket(line, n, float(n)) for n in range(300)))
    for n in range(300):
        if n % 3:
            line.remove(n)
    assert len(line) == 100
    assert drain(line, ANA, now_s=1000.0) == list(range(0, 300, 3))


def test_the_same_id_cannot_wait_twice() -> None:
    line = queue_of()
    line.push(ticket(line, 1, 0.0))
    with pytest.raises(ValueError, match="work item 1 is already waiting"):
        line.push(ticket(line, 1, 5.0))


def test_waiting_lists_each_ticket_with_its_wait() -> None:
    line = queue_of()
    fill(line, ticket(line, 2, 100.0), ticket(line, 1, 40.0), ticket(line, 3, 160.0))
    line.remove(3)
    assert [(w.item.id, w.waited_s) for w in line.waiting(now_s=200.0)] == [(2, 100.0), (1, 160.0)]
    # Removing while iterating is safe.
    for waiting in line.waiting(now_s=200.0):
        assert isinstance(waiting, Waiting)
        line.remove(waiting.item.id)
    assert len(line) == 0


# --- property: the buckets choose exactly what a scan of the whole line would --------------

TEAMS = ["A", "B"]
LANGUAGES = ["en", "de"]
CHANNELS = ["chat", "email"]
SKILLS = ["billing", "tech"]


def brute_force(
    items: list[WorkItem], agent: Agent, policy: str, language_match: str
) -> WorkItem | None:
    """The best eligible waiting item, by scanning all of them (no overflow)."""

    def speaks(item: WorkItem) -> bool:
        return not agent.languages or item.language in agent.languages

    eligible = [
        item
        for item in items
        if (item.team is None or item.team == agent.team)
        and (item.skill is None or item.skill in agent.skills)
        and (not agent.channels or item.channel in agent.channels)
        and (language_match != "required" or speaks(item))
    ]

    def order(item: WorkItem) -> tuple[float, ...]:
        miss = 1 if language_match == "preferred" and not speaks(item) else 0
        if policy == "fifo":
            return (miss, item.arrived_s, item.id)
        return (miss, item.rank, item.arrived_s, item.id)

    return min(eligible, key=order, default=None)


subsets = st.frozensets
work: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    arrived_s=st.integers(0, 5).map(float),
    priority=st.sampled_from(["urgent", "high", "normal", "low", "other"]),
    channel=st.sampled_from(CHANNELS),
    language=st.sampled_from(LANGUAGES),
    team=st.sampled_from([None, *TEAMS]),
    skill=st.sampled_from([None, *SKILLS]),
)
agents: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    team=st.sampled_from(TEAMS),
    skills=subsets(st.sampled_from(SKILLS)),
    languages=subsets(st.sampled_from(LANGUAGES)),
    channels=subsets(st.sampled_from(CHANNELS)),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), work),
        st.tuples(st.just("remove"), st.integers(0, 30)),
        st.tuples(st.just("pop"), agents),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    policy=st.sampled_from(["fifo", "priority"]),
    language_match=st.sampled_from(["required", "preferred", "ignore"]),
    steps=operations,
)
def test_pop_for_equals_a_scan_of_every_waiting_item(
    policy: str, language_match: str, steps: list[tuple[str, Any]]
) -> None:
    line = queue_of(policy=policy, language_match=language_match)
    model: dict[int, WorkItem] = {}
    next_id = 0
    for kind, argument in steps:
        if kind == "push":
            item = line.router.classify(WorkItem(id=next_id, **argument))
            next_id += 1
            line.push(item)
            model[item.id] = item
        elif kind == "remove":
            assert line.remove(argument) is model.pop(argument, None)
        else:
            agent = Agent(id=0, name="X", **argument)
            expected = brute_force(list(model.values()), agent, policy, language_match)
            assert line.pop_for(agent, now_s=10.0) is expected
            if expected is not None:
                del model[expected.id]
        assert len(line) == len(model)
