"""The router: where a new ticket must go, and which free agent takes it.

A help desk routes in two steps. First it *classifies* the ticket: the routing rules, read top
down, say that a chat in Chinese goes to the APAC team and a refund needs the billing skill
(:meth:`Router.classify`). Then, when the ticket arrives or an agent frees up, it *matches* work
and agents. :meth:`Router.pick_agent` chooses the agent for one ticket; the waiting line, which
chooses the ticket for one agent, is :class:`~supportflow.routing.queue.RoutingQueue`.

An agent may take a ticket when all of these hold:

- the agent is on shift and has a free slot (``busy < concurrency``);
- the agent is in the ticket's team, if it has one; once the ticket has waited at least
  ``overflow.after`` seconds, agents of the ``overflow.to`` team (or of any team) may take it too;
- the agent has the ticket's skill, if it needs one;
- the agent serves the ticket's channel (an agent with no channels serves all);
- with ``language_match: required``, the agent speaks the ticket's language (an agent with no
  languages listed speaks all).

Among the agents who may take it, :meth:`Router.pick_agent` chooses by the policy, the way
Zendesk's omnichannel routing and most ACDs do: the *longest idle* agent first, that is the
smallest ``last_assigned_s``, so work is spread fairly. The policy refines this:

============  ==============================================================================
policy        agents in order of
============  ==============================================================================
fifo          language match, longest idle, id
priority      language match, longest idle, id
language      language match, longest idle, id (``language_match`` may not be ``ignore``)
skills        language match, fewest skills (keep generalists free for what only they can
              do), longest idle, id
least_busy    language match, lowest occupancy ``busy / concurrency``, longest idle, id
============  ==============================================================================

"Language match" counts only with ``language_match: preferred``: agents who speak the ticket's
language come before those who do not. With ``required`` the others are not eligible at all;
with ``ignore`` language plays no part. The agent's ``id`` breaks the last ties, so the same
input always gives the same agent. The policies differ more in the order of *waiting work*, which
:class:`~supportflow.routing.queue.RoutingQueue` documents.

Nothing here reads a clock, a file or a random generator; the caller passes ``now_s``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from supportflow.routing.escalation import Escalation
from supportflow.routing.work import Agent, WorkItem, matches
from supportflow.rules.routing import ANY_TEAM, RoutingRules

_BY_IDLE, _BY_SKILLS, _BY_OCCUPANCY = 0, 1, 2


class Router:
    """Routing rules compiled once, and the decisions that use them.

    A router holds no state that changes: the same router may serve several queues, processes
    or simulation replications.
    """

    __slots__ = (
        "_agent_order",
        "_overflow_after",
        "_overflow_to",
        "_preferred",
        "_required",
        "rules",
    )

    def __init__(self, rules: RoutingRules) -> None:
        self.rules = rules
        self._required = rules.language_match == "required"
        self._preferred = rules.language_match == "preferred"
        self._agent_order = {"skills": _BY_SKILLS, "least_busy": _BY_OCCUPANCY}.get(
            rules.policy, _BY_IDLE
        )
        overflow = rules.overflow
        self._overflow_after = overflow.after if overflow is not None else None
        # None: any team may take overflowing work
        self._overflow_to = None if overflow is None or overflow.to == ANY_TEAM else overflow.to

    @property
    def fifo(self) -> bool:
        """Whether waiting work is taken in arrival order only (policy ``fifo``)."""
        return self.rules.policy == "fifo"

    @property
    def language_required(self) -> bool:
        """Whether an agent must speak the ticket's language (``language_match: required``)."""
        return self._required

    @property
    def language_preferred(self) -> bool:
        """Whether speakers of the ticket's language come first (``language_match: preferred``)."""
        return self._preferred

    @property
    def overflow_after_s(self) -> float | None:
        """Seconds of waiting after which a ticket may leave its team; ``None``: never."""
        return self._overflow_after

    def overflow_allows(self, agent_team: str) -> bool:
        """Whether agents of ``agent_team`` may take another team's overflowing work."""
        return self._overflow_after is not None and (
            self._overflow_to is None or self._overflow_to == agent_team
        )

    def rank_of(self, priority: str) -> int:
        """The rank of a priority label: 0 is the most urgent; an unknown label ranks last."""
        return self.rules.rank_of(priority)

    def classify(self, item: WorkItem) -> WorkItem:
        """The item as the rules route it: a copy (``item`` is not changed).

        The first rule whose ``when`` matches sets the team, skill and priority it names; what it
        does not name keeps the item's own value. With no matching rule the item keeps its own.
        ``rank`` is then set from the (possibly new) priority.
        """
        team, skill, priority = item.team, item.skill, item.priority
        for rule in self.rules.rules:
            if matches(rule.when, item):
                team = rule.team if rule.team is not None else team
                skill = rule.skill if rule.skill is not None else skill
                priority = rule.priority if rule.priority is not None else priority
                break
        return replace(
            item, team=team, skill=skill, priority=priority, rank=self.rules.rank_of(priority)
        )

    def overflowing(self, item: WorkItem, now_s: float) -> bool:
        """Whether ``item`` has waited long enough to leave its team (``overflow.after``)."""
        return self._overflow_after is not None and now_s - item.arrived_s >= self._overflow_after

    def can_take(self, agent: Agent, item: WorkItem, now_s: float) -> bool:
        """Whether ``agent`` may take ``item`` now (the conditions in the module docstring)."""
        if not agent.on_shift or agent.busy >= agent.concurrency:
            return False
        if (
            item.team is not None
            and agent.team != item.team
            and not (self.overflowing(item, now_s) and self.overflow_allows(agent.team))
        ):
            return False
        if item.skill is not None and item.skill not in agent.skills:
            return False
        if agent.channels and item.channel not in agent.channels:
            return False
        return not (self._required and agent.languages and item.language not in agent.languages)

    def pick_agent(self, item: WorkItem, agents: Iterable[Agent], now_s: float) -> Agent | None:
        """The agent who should take ``item`` now, or ``None`` if no one may.

        Eligibility and order are those of the module docstring and the rules' policy. The agent
        is not changed: the caller marks it busy and sets ``last_assigned_s``. ``item`` should be
        classified (:meth:`classify`).
        """
        # One inlined pass: the simulator calls this for every arrival, so no key functions,
        # sorting or per-agent calls (``can_take`` states the same conditions for readers).
        teams: tuple[str, ...] | None = None
        if item.team is not None:
            if self._overflow_after is None or now_s - item.arrived_s < self._overflow_after:
                teams = (item.team,)
            elif self._overflow_to is not None:
                teams = (item.team, self._overflow_to)
        skill, channel, language = item.skill, item.channel, item.language
        required, preferred, order = self._required, self._preferred, self._agent_order
        best: Agent | None = None
        best_key: tuple[int, float, float, int] | None = None
        for agent in agents:
            if not agent.on_shift or agent.busy >= agent.concurrency:
                continue
            if teams is not None and agent.team not in teams:
                continue
            if skill is not None and skill not in agent.skills:
                continue
            if agent.channels and channel not in agent.channels:
                continue
            speaks = not agent.languages or language in agent.languages
            if required and not speaks:
                continue
            if order == _BY_IDLE:
                load = 0.0
            elif order == _BY_SKILLS:
                load = float(len(agent.skills))
            else:
                load = agent.busy / agent.concurrency
            key = (1 if preferred and not speaks else 0, load, agent.last_assigned_s, agent.id)
            if best_key is None or key < best_key:
                best, best_key = agent, key
        return best

    def apply_escalation(self, item: WorkItem, escalation: Escalation) -> WorkItem:
        """A copy of ``item`` moved to the escalation's team and given its new priority (and
        rank); what the escalation does not set is kept, including the skill."""
        team = escalation.to_team if escalation.to_team is not None else item.team
        if escalation.new_priority is None:
            return replace(item, team=team)
        return replace(
            item,
            team=team,
            priority=escalation.new_priority,
            rank=self.rules.rank_of(escalation.new_priority),
        )
