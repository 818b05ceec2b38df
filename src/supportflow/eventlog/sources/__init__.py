"""Readers that turn nested or XML exports into flat record batches of canonical columns.

Each converter streams its file and yields ``pyarrow.RecordBatch`` objects whose columns are all
strings; the loader inserts them into DuckDB in order, so a row's position is its source order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def get_converter(name: str) -> Callable[[Path], Iterator[Any]]:
    """The converter registered under ``name`` (``xes``, ``zendesk``, ``freshdesk``).

    Raises:
        KeyError: no converter has that name.
    """
    # Imported on demand: pyarrow and lxml are only needed for these formats.
    if name == "xes":
        from supportflow.eventlog.sources.xes import read_xes_batches

        return read_xes_batches
    if name == "zendesk":
        from supportflow.eventlog.sources.zendesk import read_zendesk_batches

        return read_zendesk_batches
    if name == "freshdesk":
        from supportflow.eventlog.sources.freshdesk import read_freshdesk_batches

        return read_freshdesk_batches
    raise KeyError(f"no converter named {name!r}")
