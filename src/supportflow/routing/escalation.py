"""Escalation: what to do about a ticket that has waited too long without an agent.

A team lead writes "an urgent or high ticket still unassigned after 30 minutes goes to L2, one
rank more urgent, and I want to know". :func:`escalate` answers, for one waiting ticket at one
moment, which escalation rule is due; it changes nothing and sends nothing. The caller applies
the answer (:meth:`Router.apply_escalation <supportflow.routing.router.Router.apply_escalation>`
moves the ticket and raises its priority; a notifier reads ``notify``) and remembers which rules
have fired for the ticket, so that each fires once.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from supportflow.routing.work import WorkItem, matches
from supportflow.rules.routing import RoutingRules


@dataclass(frozen=True, slots=True)
class Escalation:
    """An escalation rule that is due for a ticket, and what it asks for.

    ``rule_index`` is the rule's position in ``escalation`` (0-based). ``to_team`` is the team
    the ticket moves to; ``new_priority`` the label one rank more urgent (``None`` when the rule
    does not raise it, or the ticket is already the most urgent); ``notify`` the label of whom to
    tell. Any of the three may be ``None``.
    """

    rule_index: int
    to_team: str | None
    new_priority: str | None
    notify: str | None


def escalate(
    item: WorkItem, now_s: float, rules: RoutingRules, *, fired: Container[int] = ()
) -> Escalation | None:
    """The first escalation rule, top down, that matches ``item`` and is due at ``now_s``.

    A rule is due when the item has waited at least its ``after``: ``now_s - item.arrived_s >=
    after`` (so an ``after`` of 30m is due at exactly 30 minutes). Rules whose index is in
    ``fired`` are skipped: pass the indexes already applied to this item, or a rule that keeps
    matching would be reported again at every check. Matching uses the item's current values
    (its priority after classification and earlier escalations).

    ``raise_priority`` moves one rank up the ``priorities`` list; a label not in the list ranks
    after all of them, so it rises to the least urgent listed label.
    """
    waited_s = now_s - item.arrived_s
    for index, rule in enumerate(rules.escalation):
        if waited_s < rule.after or index in fired or not matches(rule.when, item):
            continue
        new_priority = None
        if rule.raise_priority:
            rank = rules.rank_of(item.priority)
            if rank > 0:
                new_priority = rules.priorities[rank - 1]
        return Escalation(
            rule_index=index, to_team=rule.to_team, new_priority=new_priority, notify=rule.notify
        )
    return None
