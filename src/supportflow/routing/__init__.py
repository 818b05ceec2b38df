"""Routing and escalation decisions: which agent takes which ticket, and when a ticket escalates.

Given a ticket's work item, the agents and the routing rules (``supportflow.rules.routing``),
this package decides; it does no I/O, reads no clock (the caller passes ``now_s``) and draws no
random numbers, so the discrete-event simulator and the live service route alike::

    router = Router(load_routing("routing.yaml"))
    item = router.classify(WorkItem(id=1, arrived_s=0.0, priority="high", channel="chat",
                                    language="zh"))
    agent = router.pick_agent(item, agents, now_s=0.0)   # a free agent, or None
    queue = RoutingQueue(router)
    queue.push(item)                                      # ... if no one was free
    queue.pop_for(agent, now_s=60.0)                      # when an agent frees up
    escalate(item, now_s=1800.0, rules=router.rules)      # an Escalation, or None

``docs/routing.md`` explains each policy with examples.
"""

from supportflow.routing.escalation import Escalation, escalate
from supportflow.routing.pool import AgentPool
from supportflow.routing.queue import RoutingQueue, Waiting
from supportflow.routing.router import Router
from supportflow.routing.work import Agent, WorkItem, matches

__all__ = [
    "Agent",
    "AgentPool",
    "Escalation",
    "Router",
    "RoutingQueue",
    "Waiting",
    "WorkItem",
    "escalate",
    "matches",
]
