"""Reading help-desk exports into the canonical event log (see :mod:`.schema`)."""

from supportflow.eventlog.errors import EventLogError
from supportflow.eventlog.load import EventLog, connect, load_event_log
from supportflow.eventlog.schema import ColumnMapping, IngestReport

__all__ = [
    "ColumnMapping",
    "EventLog",
    "EventLogError",
    "IngestReport",
    "connect",
    "load_event_log",
]
