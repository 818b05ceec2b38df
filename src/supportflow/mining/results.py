"""Typed results of the mining core, each serialising to the keys of the JSON contract.

Durations are seconds (``_s``). Lists are ordered as the contract says (most frequent or most
costly first). ``None`` means "the log has no column for this" (for example team ping-pong in
a log without teams), never zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class DirectlyFollows:
    """One arc of the process map: how often ``target`` directly followed ``source`` in a case,
    and the wall-clock waits between them."""

    source: str
    target: str
    count: int
    mean_s: float
    median_s: float
    min_s: float
    max_s: float
    p90_s: float
    total_s: float


@dataclass(frozen=True)
class Variant:
    """A distinct activity sequence and the cases that followed it."""

    activities: list[str]
    cases: int
    share: float
    median_duration_s: float


@dataclass(frozen=True)
class DurationStats:
    """Summary of durations in seconds (percentiles interpolate linearly, as numpy does)."""

    mean: float
    median: float
    p90: float
    min: float
    max: float


@dataclass(frozen=True)
class SelfLoops:
    """Immediate repetitions of an activity: by the same resource (repeat) or another (redo)."""

    repeat: int
    redo: int
    repeat_cases: int
    redo_cases: int


@dataclass(frozen=True)
class Rework:
    """Activities done more than once in a case."""

    cases_with_rework: int
    per_activity: dict[str, int]
    self_loop_cases: int
    self_loops: SelfLoops | None
    median_duration_with_rework_s: float | None
    median_duration_without_rework_s: float | None


@dataclass(frozen=True)
class PingPong:
    """Cases that went A → B → A, on activities, teams and resources."""

    activity_cases: int
    team_cases: int | None
    resource_cases: int | None


@dataclass(frozen=True)
class HandoverArc:
    """Work passed from one handler to a different one: occurrences and distinct cases."""

    source: str
    target: str
    count: int
    cases: int


@dataclass(frozen=True)
class Handover:
    """Handover of work between resources and between teams (source ≠ target)."""

    resources: list[HandoverArc]
    teams: list[HandoverArc]


@dataclass(frozen=True)
class Bottleneck:
    """A transition ranked by the total waiting it causes, and that waiting's share of all
    case time (the shares of all transitions add up to 1)."""

    source: str
    target: str
    count: int
    total_s: float
    share_of_case_time: float
    median_s: float
    mean_s: float
    p90_s: float


@dataclass(frozen=True)
class Heatmaps:
    """Hour-of-week grids (7 weekdays × 24 hours, Monday first) in ``timezone``."""

    timezone: str
    weekdays: list[str]
    arrivals: list[list[int]]
    median_wait_s: list[list[float | None]]
    wait_counts: list[list[int]]


@dataclass(frozen=True)
class WorkloadRow:
    """Events and cases handled by one resource or team."""

    name: str
    events: int
    cases: int
    share: float


@dataclass(frozen=True)
class Workload:
    """Workload per resource and per team."""

    resources: list[WorkloadRow]
    teams: list[WorkloadRow]


@dataclass(frozen=True)
class LogSummary:
    """Size and time span of the log."""

    events: int
    cases: int
    activities: int
    variants: int
    rejected_rows: int
    first_timestamp: str
    last_timestamp: str


@dataclass
class Diagnosis:
    """Everything ``supportflow diagnose`` computes, serialisable to the JSON contract."""

    log: LogSummary
    activities: dict[str, int]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    dfg: list[DirectlyFollows]
    variants: list[Variant]
    case_duration_s: DurationStats
    rework: Rework
    pingpong: PingPong
    handover: Handover
    bottlenecks: list[Bottleneck]
    heatmaps: Heatmaps
    workload: Workload
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (without ``source``, which the caller adds from the ingest report)."""
        doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        body = asdict(self)
        body.pop("timings_s")
        doc.update(body)
        return doc
