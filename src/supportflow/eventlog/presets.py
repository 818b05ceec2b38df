"""Source presets: how the exports of common tools map onto the canonical event log.

A preset names the columns a tool writes and how it writes dates, so that
``supportflow diagnose export.csv --preset servicenow`` needs no other flag. Presets for JSON
exports (Zendesk, Freshdesk, Jira) also name a converter that flattens the nested records into
rows first; see :mod:`supportflow.eventlog.sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportflow.eventlog.errors import UnknownPresetError
from supportflow.eventlog.schema import ColumnMapping
from supportflow.eventlog.timestamps import DateOrder

Converter = Callable[[Path], Iterator[Any]]  # yields pyarrow.RecordBatch of canonical columns


@dataclass(frozen=True)
class Preset:
    """A named source layout."""

    name: str
    description: str
    mapping: ColumnMapping
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_order: DateOrder | None = None
    null_tokens: tuple[str, ...] = ()
    converter_name: str | None = None


# The converters of JSON exports already write canonical column names.
CONVERTED = ColumnMapping(
    case_id="case_id",
    activity="activity",
    timestamp="timestamp",
    resource="resource",
    team="team",
    channel="channel",
    priority="priority",
)

PRESETS: dict[str, Preset] = {
    "pm4py": Preset(
        name="pm4py",
        description="pm4py / Disco CSV export: Case ID, Activity, Complete Timestamp, Resource",
        mapping=ColumnMapping(
            case_id="Case ID",
            activity="Activity",
            timestamp="Complete Timestamp",
            resource="Resource",
        ),
        alternatives={"timestamp": ("Start Timestamp", "Timestamp")},
    ),
    "xes": Preset(
        name="xes",
        description="XES standard keys: case:concept:name, concept:name, time:timestamp, org:resource",
        mapping=ColumnMapping(
            case_id="case:concept:name",
            activity="concept:name",
            timestamp="time:timestamp",
            resource="org:resource",
            team="org:group",
            lifecycle="lifecycle:transition",
        ),
    ),
    "servicenow": Preset(
        name="servicenow",
        description=(
            "ServiceNow incident audit export: number, incident_state, sys_updated_on/at, "
            "assigned_to, assignment_group, contact_type, priority; day-first dates, '?' for missing"
        ),
        mapping=ColumnMapping(
            case_id="number",
            activity="incident_state",
            timestamp="sys_updated_on",
            resource="assigned_to",
            team="assignment_group",
            channel="contact_type",
            priority="priority",
            region="location",
        ),
        alternatives={"timestamp": ("sys_updated_at",), "activity": ("state",)},
        date_order="dmy",
        null_tokens=("?",),
    ),
    "zendesk": Preset(
        name="zendesk",
        description="Zendesk incremental ticket events (JSON pages or JSON lines of ticket events)",
        mapping=CONVERTED,
        converter_name="zendesk",
    ),
    "freshdesk": Preset(
        name="freshdesk",
        description="Freshdesk ticket-activities export (activities_data JSON)",
        mapping=CONVERTED,
        converter_name="freshdesk",
    ),
}
PRESETS["disco"] = PRESETS["pm4py"]


def get_preset(name: str) -> Preset:
    """The preset called ``name``.

    Raises:
        UnknownPresetError: no preset has that name; the message lists the names that exist.
    """
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise UnknownPresetError(
            f"unknown preset {name!r}; presets: {', '.join(sorted(PRESETS))}"
        ) from None
