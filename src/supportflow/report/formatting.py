"""Numbers as a reader sees them: "21,348 events", "2.3 d" or "2.3 天", "59.1%".

A duration picks the largest unit that keeps the number readable (seconds under a minute,
minutes under an hour, hours under a day, then days), with one decimal below ten and none
above, so "45 s", "12 min", "3.5 h", "2.3 d", "41 d". The process map's JavaScript applies
the same rule (``formatDuration`` in ``templates/process_map.js``) with the unit names passed
from here, so the map and the tables agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class NumberFormat:
    """Unit names for one language; the digits themselves are the same in English and Chinese
    (a comma every three digits, a point for decimals)."""

    second: str
    minute: str
    hour: str
    day: str

    def count(self, value: float) -> str:
        """An integer count with thousands separators: ``21348`` → ``"21,348"``."""
        return f"{round(value):,}"

    def percent(self, share: float) -> str:
        """A share in 0..1 as a percentage with one decimal; tiny non-zero shares say so."""
        if 0 < share < 0.0005:
            return "<0.1%"
        return f"{share * 100:.1f}%"

    def duration(self, seconds: float | None) -> str:
        """A duration in the largest readable unit, or an en dash when it is unknown."""
        if seconds is None:
            return "–"
        magnitude = abs(seconds)
        for size, unit in ((86400.0, self.day), (3600.0, self.hour), (60.0, self.minute)):
            if magnitude >= size:
                return f"{_short_number(seconds / size)} {unit}"
        return f"{_short_number(seconds)} {self.second}"

    def js_units(self) -> dict[str, str]:
        """The unit names for the map's JavaScript duration formatter."""
        return {"s": self.second, "min": self.minute, "h": self.hour, "d": self.day}


def _short_number(value: float) -> str:
    # One decimal while it still carries information, then whole numbers with separators.
    if abs(value) < 9.95:
        return f"{value:.1f}"
    return f"{round(value):,}"


def format_timestamp(iso_text: str) -> str:
    """An ISO-8601 timestamp of the document as ``2012-10-09 14:50:17`` in UTC.

    Text that is not ISO-8601 is returned unchanged, so a surprising document still renders
    and shows the reader what it holds.
    """
    try:
        moment = datetime.fromisoformat(iso_text)
    except ValueError:
        return iso_text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")
