"""The free agents, indexed so that picking one does not scan them all.

:meth:`Router.pick_agent` looks at every free agent: clear, and fine for a live desk, but the
simulator asks it millions of times. :class:`AgentPool` gives the same answer from an index:
agents are grouped by *profile* (team, skills, languages, channels), each group is a heap in
the router's agent order (occupancy or skill count, then longest idle, then id), and a pick looks
at the best agent of each profile that may take the item. What a profile may take is decided once
per kind of item. ``tests/routing/test_pool.py`` checks that the pool and ``pick_agent`` agree on
random desks.

The caller tells the pool when an agent's state changes (:meth:`add` when it has a free slot and
is on shift, :meth:`discard` when not), just as it would keep the list it passes to
``pick_agent``.
"""

from __future__ import annotations

import heapq
import itertools

from supportflow.routing.router import _BY_IDLE, _BY_SKILLS, Router
from supportflow.routing.work import Agent, WorkItem

_Profile = tuple[str, frozenset[str], frozenset[str], frozenset[str]]
_Key = tuple[str | None, str | None, str, str]


class AgentPool:
    """Free agents, indexed by profile; ``pick`` equals ``Router.pick_agent`` over them."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._heaps: dict[_Profile, list[tuple[float, float, int, int]]] = {}
        self._members: dict[int, tuple[Agent, int]] = {}
        self._version = itertools.count()
        self._eligible: dict[_Key, list[tuple[_Profile, bool]]] = {}
        self._profile_of: dict[int, _Profile] = {}

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._members

    @staticmethod
    def _profile(agent: Agent) -> _Profile:
        return (agent.team, agent.skills, agent.languages, agent.channels)

    def _load(self, agent: Agent) -> float:
        order = self.router._agent_order
        if order == _BY_IDLE:
            return 0.0
        if order == _BY_SKILLS:
            return float(len(agent.skills))
        return agent.busy / agent.concurrency

    def add(self, agent: Agent) -> None:
        """``agent`` is free (or its load or idle time changed): index it anew."""
        version = next(self._version)
        self._members[agent.id] = (agent, version)
        profile = self._profile_of.get(agent.id)
        if profile is None:  # an agent's team, skills, languages and channels do not change
            profile = self._profile_of[agent.id] = self._profile(agent)
        heap = self._heaps.get(profile)
        if heap is None:
            heap = self._heaps[profile] = []
            self._eligible.clear()  # a new profile: what items may reach changes
        heapq.heappush(heap, (self._load(agent), agent.last_assigned_s, agent.id, version))

    def discard(self, agent: Agent) -> None:
        """``agent`` is no longer free (busy in every slot, or off shift)."""
        self._members.pop(agent.id, None)

    def _profiles_for(self, item: WorkItem) -> list[tuple[_Profile, bool]]:
        key = (item.team, item.skill, item.channel, item.language)
        found = self._eligible.get(key)
        if found is None:
            found = []
            required = self.router._required
            for profile in self._heaps:
                team, skills, languages, channels = profile
                if item.team is not None and team != item.team:
                    continue
                if item.skill is not None and item.skill not in skills:
                    continue
                if channels and item.channel not in channels:
                    continue
                speaks = not languages or item.language in languages
                if required and not speaks:
                    continue
                found.append((profile, speaks))
            self._eligible[key] = found
        return found

    def pick(self, item: WorkItem, now_s: float) -> Agent | None:
        """The agent ``Router.pick_agent(item, <the pool's agents>, now_s)`` would choose.

        Items that may overflow to other teams are answered by ``pick_agent`` itself.
        """
        router = self.router
        if item.team is not None and router.overflowing(item, now_s):
            return router.pick_agent(item, [a for a, _ in self._members.values()], now_s)
        preferred = router._preferred
        members = self._members
        best: Agent | None = None
        best_key: tuple[int, float, float, int] | None = None
        for profile, speaks in self._profiles_for(item):
            heap = self._heaps[profile]
            while heap:  # drop stale entries: agents who left or were indexed again
                load, idle, agent_id, version = heap[0]
                member = members.get(agent_id)
                if member is not None and member[1] == version:
                    break
                heapq.heappop(heap)
            else:
                continue
            key = (1 if preferred and not speaks else 0, load, idle, agent_id)
            if best_key is None or key < best_key:
                best, best_key = member[0], key
        return best
