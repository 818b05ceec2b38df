"""The two things routing decides about: a piece of waiting work and an agent who may take it.

A *work item* is a ticket as the router sees it: when it arrived, how urgent it is, on which
channel and in which language the customer writes, and, once classified, which team must take it
and which skill it needs. An *agent* belongs to one team, has skills, speaks languages, serves
channels and can hold ``concurrency`` conversations at once (a chat agent often three, a phone
agent one). These are plain slotted dataclasses, not pydantic models: the simulator creates and
compares millions of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportflow.rules.routing import RuleMatch


@dataclass(slots=True)
class WorkItem:
    """A ticket waiting to be routed.

    ``arrived_s`` is when it started waiting, in seconds on the caller's clock (simulation time
    or epoch seconds); waits, overflow and escalation are measured from it. ``team`` and
    ``skill`` say where it must go (set by :meth:`Router.classify` from the rules, or given).
    ``rank`` is the rank of ``priority`` (0 = most urgent), filled by ``Router.classify``.
    """

    id: int
    arrived_s: float
    priority: str
    channel: str
    language: str
    type: str | None = None
    team: str | None = None
    skill: str | None = None
    rank: int = 0


@dataclass(slots=True)
class Agent:
    """Someone who takes work.

    ``skills`` are what the agent can do: an agent with no skills takes only work that needs
    none. ``languages`` and ``channels`` left empty mean *any* (the agent is not restricted).
    The agent has a free slot while ``busy < concurrency``. ``last_assigned_s`` is when the agent
    last received work (``-inf``: never), so the smallest value is the longest idle agent;
    ``handled`` counts the work received. Routing reads these and never changes them: the caller
    marks the agent busy.
    """

    id: int
    name: str
    team: str
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    concurrency: int = 1
    busy: int = 0
    on_shift: bool = True
    last_assigned_s: float = float("-inf")
    handled: int = 0


def matches(when: RuleMatch, item: WorkItem) -> bool:
    """Whether ``item`` meets every condition of a rule's ``when`` (an empty ``when`` always
    does; an attribute the item lacks, such as ``type=None``, meets no condition on it)."""
    return (
        (when.channel is None or item.channel in when.channel)
        and (when.language is None or item.language in when.language)
        and (when.priority is None or item.priority in when.priority)
        and (when.type is None or item.type in when.type)
        and (when.team is None or item.team in when.team)
    )
