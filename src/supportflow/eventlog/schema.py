"""The canonical event log: one row is one event of one ticket.

Every source, whatever it calls its columns, becomes this table. A ticket (a *case*) is a
sequence of events such as "Assign seriousness" then "Take in charge ticket"; each event has
the ticket's id, the activity's name and the instant it happened, and optionally who did it
(``resource``), their team and the ticket's channel, language, priority and region.

Timestamps are stored as UTC epoch microseconds. ``seq`` is the row's position in the source,
so events of one ticket are always ordered by (timestamp, seq): ties keep file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

REQUIRED_FIELDS: tuple[str, ...] = ("case_id", "activity", "timestamp")
OPTIONAL_FIELDS: tuple[str, ...] = (
    "resource",
    "team",
    "channel",
    "language",
    "priority",
    "region",
    "lifecycle",
)
CANONICAL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column feeds each canonical field (``None``: the source has none)."""

    case_id: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    resource: str | None = None
    team: str | None = None
    channel: str | None = None
    language: str | None = None
    priority: str | None = None
    region: str | None = None
    lifecycle: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """The mapping as ``{canonical field: source column or None}``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def merged(self, override: ColumnMapping) -> ColumnMapping:
        """This mapping with every field that ``override`` names replaced."""
        values = self.as_dict()
        values.update({k: v for k, v in override.as_dict().items() if v is not None})
        return ColumnMapping(**values)


@dataclass(frozen=True)
class MappingChoice:
    """One line of the mapping explanation: a field, its column and why it was chosen."""

    field: str
    column: str | None
    reason: str


@dataclass
class IngestReport:
    """What ingestion did, for the person who ran it: mapping, formats and rejected rows."""

    source: str
    source_format: str
    encoding: str | None
    timezone: str
    timestamp_format: str
    mapping: list[MappingChoice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    events: int = 0
    rejected_rows: int = 0
    rejects_path: str | None = None
    reject_reasons: dict[str, int] = field(default_factory=dict)
