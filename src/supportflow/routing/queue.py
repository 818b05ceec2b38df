"""The waiting line: which ticket an agent who frees up should take next.

When an agent finishes a chat, the desk looks at the tickets waiting and hands over the one that
should go first among those the agent may take. Scanning a line of a thousand tickets at every
release would make a simulation crawl, so :class:`RoutingQueue` sorts waiting work into
*buckets*, one per (team, skill, language, channel), each a heap ordered by the policy. An agent
may take the whole bucket or none of it, so the agent's choice is the best of a few bucket
heads, and the buckets an agent may take are worked out once per kind of agent.

Waiting work is taken in this order (lowest first):

============================================  ================================================
policy                                        work in order of
============================================  ================================================
fifo                                          language match, arrived_s, id
priority, skills, language, least_busy        language match, rank, arrived_s, id
============================================  ================================================

``rank`` 0 is the most urgent priority, so under ``priority`` an urgent ticket that arrived a
minute ago goes before a normal one that has waited an hour; under ``fifo`` the hour wins.
"Language match" counts only with ``language_match: preferred``: work in a language the agent
speaks comes before any other (an agent with no languages listed speaks all). With ``required``
the agent never gets work in other languages; with ``ignore`` language plays no part.

Overflow: a bucket of another team becomes eligible for an agent of the ``overflow.to`` team (or
of any team) when the ticket at its *head* has waited at least ``overflow.after``. Only heads
are looked at: in a priority bucket a less urgent ticket that has waited longer than the head
does not overflow until it reaches the head. This keeps each release cheap, and the head is the
ticket the team itself would serve next.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any, NamedTuple

from supportflow.routing.router import Router
from supportflow.routing.work import Agent, WorkItem

_Entry = tuple[Any, ...]
"""A heap entry: the policy's sort key, then the item's id, then the item itself."""
_Profile = tuple[str, frozenset[str], frozenset[str], frozenset[str]]
_COMPACT_AT = 64
"""Stale heap entries tolerated before the heaps are rebuilt (at most as many as live ones)."""


class Waiting(NamedTuple):
    """A waiting item and how long it has waited at the time asked."""

    item: WorkItem
    waited_s: float


class _Bucket:
    """The waiting work of one (team, skill, language, channel)."""

    __slots__ = ("channel", "heap", "language", "skill", "team")

    def __init__(
        self, team: str | None, skill: str | None, language: str | None, channel: str
    ) -> None:
        self.team, self.skill, self.language, self.channel = team, skill, language, channel
        self.heap: list[_Entry] = []


class _Choice(NamedTuple):
    """The buckets one kind of agent may take, each with 1 if its language is not the agent's."""

    own: tuple[tuple[list[_Entry], int], ...]
    """The heaps of the buckets the agent may always take."""
    overflow: tuple[tuple[list[_Entry], int], ...]
    """Other teams' heaps, eligible only once their head has waited ``overflow.after``."""


class RoutingQueue:
    """Work waiting for an agent, ordered by the router's policy.

    Push classified items (:meth:`Router.classify`) and do not change an item while it waits:
    to change it, :meth:`remove` it and push the new version.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self._fifo = router.fifo
        self._ignore_language = not (router.language_required or router.language_preferred)
        self._buckets: dict[tuple[str | None, str | None, str | None, str], _Bucket] = {}
        self._live: dict[int, _Entry] = {}
        self._stale = 0
        self._choices: dict[_Profile, _Choice] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, item_id: object) -> bool:
        """Whether the item with this id is waiting."""
        return item_id in self._live

    def push(self, item: WorkItem) -> None:
        """Add ``item`` to the waiting work.

        Raises:
            ValueError: an item with the same id is already waiting.
        """
        if item.id in self._live:
            raise ValueError(f"work item {item.id} is already waiting")
        language = None if self._ignore_language else item.language
        key = (item.team, item.skill, language, item.channel)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(*key)
            self._choices.clear()  # a new bucket: every agent's list must consider it
        entry: _Entry = (
            (item.arrived_s, item.id, item)
            if self._fifo
            else (item.rank, item.arrived_s, item.id, item)
        )
        heapq.heappush(bucket.heap, entry)
        self._live[item.id] = entry

    def remove(self, item_id: int) -> WorkItem | None:
        """Take the item out of the line (a customer gave up, or it is escalated): the item, or
        ``None`` if it is not waiting. Its heap entry is dropped later, when it reaches a head."""
        entry = self._live.pop(item_id, None)
        if entry is None:
            return None
        self._stale += 1
        if self._stale > _COMPACT_AT and self._stale > len(self._live):
            self._compact()
        item: WorkItem = entry[-1]
        return item

    def pop_for(self, agent: Agent, now_s: float) -> WorkItem | None:
        """Remove and return the work ``agent`` should take next, or ``None``.

        ``None`` also when the agent is off shift or has no free slot. Eligibility is that of
        :meth:`Router.can_take`; the order is the module docstring's. The agent is not changed.
        """
        if not agent.on_shift or agent.busy >= agent.concurrency:
            return None
        choice = self._choice_for(agent)
        live_get = self._live.get
        best: list[_Entry] | None = None
        best_miss = 2
        best_head: _Entry = ()
        after = self.router.overflow_after_s
        # another team's buckets (choice.overflow, empty without overflow) only for work that
        # has waited ``after``
        for heaps, overflowing in ((choice.own, False), (choice.overflow, True)):
            for heap, miss in heaps:
                if not heap:
                    continue
                head = heap[0]
                if live_get(head[-2]) is not head:
                    head = self._drop_stale_heads(heap)
                    if not head:
                        continue
                if overflowing and after is not None and now_s - head[-1].arrived_s < after:
                    continue
                if miss < best_miss or (miss == best_miss and head < best_head):
                    best, best_miss, best_head = heap, miss, head
        if best is None:
            return None
        heapq.heappop(best)
        del self._live[best_head[-2]]
        item: WorkItem = best_head[-1]
        return item

    def _drop_stale_heads(self, heap: list[_Entry]) -> _Entry:
        """Pop removed items off the top of ``heap``: its live head, or ``()`` if it empties."""
        live = self._live
        while heap:
            head = heap[0]
            if live.get(head[-2]) is head:
                return head
            heapq.heappop(heap)
            self._stale -= 1
        return ()

    def waiting(self, now_s: float) -> Iterator[Waiting]:
        """Every waiting item with its wait so far (``now_s - arrived_s``), in the order pushed.

        The items are listed first, so the caller may remove or push while iterating (as an
        escalation does)."""
        return iter(
            [Waiting(entry[-1], now_s - entry[-1].arrived_s) for entry in self._live.values()]
        )

    def _choice_for(self, agent: Agent) -> _Choice:
        profile = (agent.team, agent.skills, agent.languages, agent.channels)
        choice = self._choices.get(profile)
        if choice is None:
            choice = self._choices[profile] = self._work_out_choice(agent)
        return choice

    def _work_out_choice(self, agent: Agent) -> _Choice:
        router = self.router
        may_overflow = router.overflow_allows(agent.team)
        own: list[tuple[list[_Entry], int]] = []
        overflow: list[tuple[list[_Entry], int]] = []
        for bucket in self._buckets.values():
            if bucket.skill is not None and bucket.skill not in agent.skills:
                continue
            if agent.channels and bucket.channel not in agent.channels:
                continue
            speaks = not agent.languages or bucket.language in agent.languages
            if router.language_required and not speaks:
                continue
            miss = 1 if router.language_preferred and not speaks else 0
            if bucket.team is None or bucket.team == agent.team:
                own.append((bucket.heap, miss))
            elif may_overflow:
                overflow.append((bucket.heap, miss))
        return _Choice(tuple(own), tuple(overflow))

    def _compact(self) -> None:
        """Drop removed entries from every heap (amortised: runs when they outnumber the live)."""
        live = self._live
        for bucket in self._buckets.values():
            # in place: the agents' cached choices hold these very lists
            bucket.heap[:] = [entry for entry in bucket.heap if live.get(entry[-2]) is entry]
            heapq.heapify(bucket.heap)
        self._stale = 0
