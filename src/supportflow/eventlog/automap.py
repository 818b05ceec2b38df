"""Choosing which source column feeds each canonical field, and saying why.

Three sources of truth, strongest first: the columns the user named with flags, the preset's
columns, and recognised column names (``Case ID``, ``concept:name``, ``assignment_group``...).
The result is a mapping plus one explanation line per field, which the CLI prints so the user
can check that "Resource" really is the agent and not the customer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from supportflow.eventlog.errors import MissingColumnError
from supportflow.eventlog.presets import Preset
from supportflow.eventlog.schema import (
    CANONICAL_FIELDS,
    REQUIRED_FIELDS,
    ColumnMapping,
    MappingChoice,
)

# Normalised names (lower case, letters and digits only) recognised for each field, best first.
KNOWN_NAMES: dict[str, tuple[str, ...]] = {
    "case_id": (
        "caseid",
        "caseconceptname",
        "case",
        "ticketid",
        "ticket",
        "ticketnumber",
        "incidentid",
        "incident",
        "number",
        "issuekey",
        "issueid",
        "requestid",
        "caseno",
    ),
    "activity": (
        "activity",
        "conceptname",
        "activityname",
        "event",
        "eventname",
        "action",
        "status",
        "incidentstate",
        "state",
        "task",
        "step",
    ),
    "timestamp": (
        "completetimestamp",
        "timetimestamp",
        "timestamp",
        "eventtime",
        "datetime",
        "time",
        "sysupdatedon",
        "sysupdatedat",
        "updatedat",
        "performedat",
        "createdat",
        "created",
        "date",
        "starttimestamp",
        "when",
        "changedat",
        "modifiedat",
        "occurredat",
    ),
    "resource": (
        "resource",
        "orgresource",
        "agent",
        "agentname",
        "assignee",
        "assignedto",
        "user",
        "performer",
        "performerid",
        "handler",
        "owner",
    ),
    "team": (
        "team",
        "orggroup",
        "group",
        "groupname",
        "assignmentgroup",
        "workgroup",
        "queue",
        "department",
        "supportteam",
    ),
    "channel": ("channel", "contacttype", "via", "source", "medium", "origin"),
    "language": ("language", "lang", "locale"),
    "priority": ("priority", "severity", "urgency"),
    "region": ("region", "country", "location", "site", "market"),
    "lifecycle": ("lifecycletransition", "lifecycle", "transition", "eventtype"),
}


def normalise(name: str) -> str:
    """Lower case with everything but letters and digits removed: ``Case ID`` → ``caseid``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def resolve_mapping(
    columns: Sequence[str],
    *,
    explicit: ColumnMapping | None = None,
    preset: Preset | None = None,
) -> tuple[ColumnMapping, list[MappingChoice]]:
    """Map canonical fields to ``columns`` and explain each choice.

    Raises:
        MissingColumnError: a required field has no column, or a named column does not exist.
    """
    by_normal: dict[str, str] = {}
    for name in columns:
        by_normal.setdefault(normalise(name), name)
    explicit_values = (explicit or ColumnMapping()).as_dict()
    preset_values = preset.mapping.as_dict() if preset else {}
    chosen: dict[str, str | None] = {}
    choices: list[MappingChoice] = []
    used: set[str] = set()

    for field in CANONICAL_FIELDS:
        column, reason = _choose(
            field, columns, by_normal, explicit_values, preset, preset_values, used
        )
        if column is None and field in REQUIRED_FIELDS:
            raise MissingColumnError(field, explicit_values.get(field), columns)
        chosen[field] = column
        if column is not None:
            used.add(column)
        choices.append(MappingChoice(field=field, column=column, reason=reason))
    return ColumnMapping(**chosen), choices


def _choose(
    field: str,
    columns: Sequence[str],
    by_normal: dict[str, str],
    explicit_values: dict[str, str | None],
    preset: Preset | None,
    preset_values: dict[str, str | None],
    used: set[str],
) -> tuple[str | None, str]:
    wanted = explicit_values.get(field)
    if wanted is not None:
        if wanted not in columns:
            raise MissingColumnError(field, wanted, columns)
        return wanted, "named on the command line"
    if preset is not None:
        for candidate in (preset_values.get(field), *preset.alternatives.get(field, ())):
            if candidate is not None and candidate in columns:
                return candidate, f"preset '{preset.name}'"
    for known in KNOWN_NAMES[field]:
        column = by_normal.get(known)
        if column is not None and column not in used:
            return column, f"recognised name ({known!r})"
    return None, "no matching column"
