"""Errors raised while reading an event log.

Each error carries a one-line message meant for the person who ran the command: it says what
is wrong, where, and what to do about it. The CLI prints it as it is and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Sequence


class EventLogError(Exception):
    """Base class of every ingestion error."""


class EmptyFileError(EventLogError):
    """The file has no bytes, or no rows after its header."""


class BinaryFileError(EventLogError):
    """The file is not text in a format we read (for example an image or a spreadsheet)."""


class UnsupportedFormatError(EventLogError):
    """The file's format is not one we read, or its content contradicts its name."""


class MissingColumnError(EventLogError):
    """A required canonical field has no column in the source."""

    def __init__(self, field: str, wanted: str | None, available: Sequence[str]) -> None:
        listed = ", ".join(repr(c) for c in available)
        if wanted is None:
            message = (
                f"no column for the required field '{field}' was found; "
                f"name it with --{field.replace('_id', '')} COLUMN. Columns in the file: {listed}"
            )
        else:
            message = f"column {wanted!r} (for '{field}') is not in the file. Columns in the file: {listed}"
        super().__init__(message)
        self.field = field
        self.wanted = wanted
        self.available = list(available)


class TimestampFormatError(EventLogError):
    """The timestamp column's format cannot be determined, or its day/month order is ambiguous."""


class EncodingError(EventLogError):
    """The file's bytes cannot be decoded in the named or detected encoding."""


class UnknownPresetError(EventLogError):
    """No source preset has the requested name."""
