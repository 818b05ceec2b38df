"""The indexed pool picks exactly the agent ``Router.pick_agent`` would, on random desks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.routing import Agent, AgentPool, Router, WorkItem
from supportflow.rules.routing import RoutingRules

TEAMS = ["L1", "L2"]
SKILLS = ["billing", "tech"]
LANGUAGES = ["en", "de", "zh"]
CHANNELS = ["chat", "email"]


@st.composite
def desks(draw: st.DrawFn) -> tuple[RoutingRules, list[Agent], list[tuple[WorkItem, str, int]]]:
    rules = RoutingRules.model_validate(
        {
            "policy": draw(st.sampled_from(["fifo", "priority", "skills", "least_busy"])),
            "language_match": draw(st.sampled_from(["required", "preferred", "ignore"])),
        }
    )
    agents = []
    for k in range(draw(st.integers(1, 12))):
        concurrency = draw(st.integers(1, 3))
        agents.append(
            Agent(
                id=k,
                name=f"a{k}",
                team=draw(st.sampled_from(TEAMS)),
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS)))),
                languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), max_size=2))),
                channels=frozenset(draw(st.sets(st.sampled_from(CHANNELS), max_size=1))),
                concurrency=concurrency,
                busy=draw(st.integers(0, concurrency - 1)),
                last_assigned_s=float(draw(st.integers(-5, 5))),
            )
        )
    steps = []
    for n in range(draw(st.integers(1, 25))):
        item = WorkItem(
            id=n,
            arrived_s=0.0,
            priority="normal",
            channel=draw(st.sampled_from(CHANNELS)),
            language=draw(st.sampled_from(LANGUAGES)),
            team=draw(st.sampled_from([None, *TEAMS])),
            skill=draw(st.sampled_from([None, *SKILLS])),
        )
        # after each pick: the chosen agent takes the item, or agent k frees a slot
        steps.append((item, draw(st.sampled_from(["take", "free"])), draw(st.integers(0, 11))))
    return rules, agents, steps


@settings(max_examples=150, deadline=None)
@given(desks())
def test_the_pool_agrees_with_pick_agent_through_a_day(
    desk: tuple[RoutingRules, list[Agent], list[tuple[WorkItem, str, int]]],
) -> None:
    rules, agents, steps = desk
    router = Router(rules)
    pool = AgentPool(router)
    for agent in agents:
        pool.add(agent)
    clock = 10.0
    for item, action, who in steps:
        free = [a for a in agents if a.busy < a.concurrency]
        expected = router.pick_agent(item, free, clock)
        assert pool.pick(item, clock) is expected
        if action == "take" and expected is not None:
            expected.busy += 1
            expected.last_assigned_s = clock
            if expected.busy < expected.concurrency:
                pool.add(expected)
            else:
                pool.discard(expected)
        elif action == "free" and who < len(agents) and agents[who].busy > 0:
            agents[who].busy -= 1
            pool.add(agents[who])
        clock += 1.0


def test_an_agent_off_shift_is_not_picked() -> None:
    router = Router(RoutingRules.model_validate({"policy": "fifo"}))
    pool = AgentPool(router)
    one = Agent(id=1, name="one", team="L1")
    two = Agent(id=2, name="two", team="L1", last_assigned_s=5.0)
    pool.add(one)
    pool.add(two)
    item = WorkItem(
        id=1, arrived_s=0.0, priority="normal", channel="email", language="en", team="L1"
    )
    assert pool.pick(item, 0.0) is one  # idle longest
    pool.discard(one)
    assert pool.pick(item, 0.0) is two
    pool.discard(two)
    assert pool.pick(item, 0.0) is None
    assert len(pool) == 0
