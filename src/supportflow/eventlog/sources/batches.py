"""Accumulating string rows into Arrow record batches of bounded size."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

BATCH_ROWS = 50_000


class BatchBuilder:
    """Collects rows (dicts of strings) column-wise and emits a record batch every ``size`` rows.

    Columns appear in the order first seen; a row missing a column gets NULL there.
    """

    def __init__(self, size: int = BATCH_ROWS) -> None:
        self.size = size
        self._columns: dict[str, list[str | None]] = {}
        self._rows = 0

    def add(self, row: dict[str, str | None]) -> None:
        """Append one row."""
        for name in row.keys() - self._columns.keys():
            self._columns[name] = [None] * self._rows
        for name, values in self._columns.items():
            values.append(row.get(name))
        self._rows += 1

    def full(self) -> bool:
        """Whether a batch of ``size`` rows is ready."""
        return self._rows >= self.size

    def flush(self) -> Iterator[Any]:
        """Yield the pending rows as one batch (nothing when empty) and start afresh."""
        if self._rows:
            arrays = [pa.array(v, type=pa.string()) for v in self._columns.values()]
            yield pa.RecordBatch.from_arrays(arrays, names=list(self._columns))
        self._columns = {}
        self._rows = 0


def batched(rows: Iterable[dict[str, str | None]], size: int = BATCH_ROWS) -> Iterator[Any]:
    """Record batches of at most ``size`` rows from ``rows``, in order."""
    builder = BatchBuilder(size)
    for row in rows:
        builder.add(row)
        if builder.full():
            yield from builder.flush()
    yield from builder.flush()
