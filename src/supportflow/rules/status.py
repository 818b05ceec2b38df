"""Status semantics: which of a log's activities mean "created", "waiting on customer", "resolved".

Help desks name their states differently: ServiceNow says ``Awaiting User Info``, Zendesk
``Status: pending``, the demo help desk ``Wait``. A status map says what each name means, so
that one set of KPI definitions reads every log.

Two kinds of meaning:

- **States** (``created``, ``in_progress``, ``waiting_on_customer``, ``waiting_on_third_party``,
  ``resolved``, ``closed``): the ticket is in this state from the event until its next state
  event. An activity has at most one state.
- **Milestones** (``assigned``, ``first_response``, ``reopened``) and ``other`` (known, no
  meaning for KPIs, such as an internal note): they mark a moment and leave the state as it
  was. An activity can carry milestones and a state at once: the demo log's ``Take in charge
  ticket`` is ``assigned``, ``first_response`` and ``in_progress``.

Activities the map does not name carry the state forward too, and are listed in the KPI output,
never silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from supportflow.rules.yamlio import RulesError, load_model, validate_data

STATE_CATEGORIES = (
    "created",
    "in_progress",
    "waiting_on_customer",
    "waiting_on_third_party",
    "resolved",
    "closed",
)
MILESTONE_CATEGORIES = ("assigned", "first_response", "reopened", "other")
WHITESPACE = " \t\r\n\f\v"
"""What is stripped around activity names (in Python and in SQL alike)."""


class StatusMap(BaseModel):
    """Which activities mean which status; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom"
    case_sensitive: bool = False
    created: list[str] = Field(default_factory=list)
    assigned: list[str] = Field(default_factory=list)
    first_response: list[str] = Field(default_factory=list)
    in_progress: list[str] = Field(default_factory=list)
    waiting_on_customer: list[str] = Field(default_factory=list)
    waiting_on_third_party: list[str] = Field(default_factory=list)
    resolved: list[str] = Field(default_factory=list)
    closed: list[str] = Field(default_factory=list)
    reopened: list[str] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_state_per_activity(self) -> StatusMap:
        seen: dict[str, str] = {}
        for state in STATE_CATEGORIES:
            for activity in getattr(self, state):
                key = self.key(activity)
                if key in seen and seen[key] != state:
                    raise ValueError(
                        f"{activity!r} is listed under both {seen[key]!r} and {state!r}; "
                        "an activity has at most one state"
                    )
                seen[key] = state
        if not (self.resolved or self.closed):
            raise ValueError("name at least one activity under 'resolved' or 'closed'")
        return self

    def key(self, activity: str) -> str:
        """The comparison key of an activity name (folded unless ``case_sensitive``)."""
        text = activity.strip(WHITESPACE)
        # lower(), not casefold(): DuckDB's lower() must give the same key in SQL.
        return text if self.case_sensitive else text.lower()

    def rows(self) -> list[tuple[str, str]]:
        """``(activity key, category)`` for every listing, states and milestones alike."""
        return [
            (self.key(activity), category)
            for category in (*STATE_CATEGORIES, *MILESTONE_CATEGORIES)
            for activity in getattr(self, category)
        ]


_PRESETS: dict[str, dict[str, object]] = {
    # The demo log (Polato et al., a software company's help desk). "Wait" is the pause the
    # agents use while they wait on the customer; "Require upgrade" and the SW-anomaly steps
    # wait on development.
    "helpdesk": {
        "created": ["Insert ticket", "Assign seriousness"],
        "assigned": ["Take in charge ticket"],
        "first_response": ["Take in charge ticket"],
        "in_progress": ["Take in charge ticket", "Resolve SW anomaly", "Schedule intervention"],
        "waiting_on_customer": ["Wait"],
        "waiting_on_third_party": ["Require upgrade", "Create SW anomaly"],
        "resolved": ["Resolve ticket", "RESOLVED", "VERIFIED"],
        "closed": ["Closed", "INVALID", "DUPLICATE"],
    },
    # ServiceNow incident states (incident_state display values). Assignment is read from the
    # assigned_to column: the map names no "assigned" activity.
    "servicenow": {
        "created": ["New"],
        "first_response": ["Active", "In Progress"],
        "in_progress": ["Active", "In Progress"],
        "waiting_on_customer": ["Awaiting User Info", "On Hold"],
        "waiting_on_third_party": [
            "Awaiting Vendor",
            "Awaiting Problem",
            "Awaiting Evidence",
            "Awaiting Change",
        ],
        "resolved": ["Resolved"],
        "closed": ["Closed", "Canceled", "Cancelled"],
        "other": ["-100"],
    },
    # Activities written by supportflow's Zendesk converter.
    "zendesk": {
        "created": ["Ticket created", "Status: new"],
        "assigned": ["Assigned"],
        "first_response": ["Public reply"],
        "in_progress": ["Status: open"],
        "waiting_on_customer": ["Status: pending"],
        "waiting_on_third_party": ["Status: hold"],
        "resolved": ["Status: solved"],
        "closed": ["Status: closed", "Status: deleted"],
        "other": [
            "Internal note",
            "Comment",
            "Unassigned",
            "Group changed",
            "Changed tags",
            "Priority: low",
            "Priority: normal",
            "Priority: high",
            "Priority: urgent",
            "Priority: none",
        ],
    },
    # Activities written by supportflow's Freshdesk converter (default status labels).
    "freshdesk": {
        "created": ["Ticket created"],
        "assigned": ["Assigned"],
        "in_progress": ["Status: Open"],
        "waiting_on_customer": ["Status: Pending", "Status: Waiting on Customer"],
        "waiting_on_third_party": ["Status: Waiting on Third Party"],
        "resolved": ["Status: Resolved"],
        "closed": ["Status: Closed"],
        "other": [
            "Note added",
            "Unassigned",
            "Group changed",
            "Channel changed",
            "Priority: Low",
            "Priority: Medium",
            "Priority: High",
            "Priority: Urgent",
        ],
    },
}
STATUS_PRESETS = tuple(_PRESETS)


def status_preset(name: str) -> StatusMap:
    """The shipped status map called ``name`` (one of :data:`STATUS_PRESETS`).

    Raises:
        RulesError: no preset has that name.
    """
    if name not in _PRESETS:
        raise RulesError(
            f"no status map preset {name!r}; choose one of {', '.join(STATUS_PRESETS)}"
        )
    return validate_data(StatusMap, {"name": name, **_PRESETS[name]}, source=f"preset {name}")


def load_status_map(path: str) -> StatusMap:
    """Read a status map from a YAML file.

    Raises:
        RulesError: with the line and field of each problem.
    """
    return load_model(StatusMap, path)


def guess_status_map(activities: dict[str, int]) -> tuple[StatusMap, float]:
    """The preset that names the largest share of the log's events, with that share.

    ``activities`` maps activity names to event counts. Used when the user gives no map.
    """
    total = sum(activities.values()) or 1
    best: tuple[StatusMap, float] | None = None
    for name in STATUS_PRESETS:
        preset = status_preset(name)
        known = {key for key, _ in preset.rows()}
        covered = sum(n for activity, n in activities.items() if preset.key(activity) in known)
        share = covered / total
        if best is None or share > best[1]:
            best = (preset, share)
    assert best is not None
    return best
