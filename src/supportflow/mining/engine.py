"""The engine contract: how the mining core runs SQL.

Every metric is a named query over a few primitive tables (see :mod:`.primitives`). The engine
runs each query, records how long it took under its name (so a benchmark can say where time
goes) and wraps engine errors with that name. DuckDB is the only engine today; a Spark engine
will implement the same three methods and the same primitives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

US = 1_000_000
"""Microseconds per second: timestamps and waits are stored in µs, reported in seconds."""


class MiningError(Exception):
    """A mining query failed; the message names the query."""


@dataclass
class DuckDBEngine:
    """Runs named SQL on a DuckDB connection that holds the ``events`` view."""

    con: duckdb.DuckDBPyConnection
    timings_s: dict[str, float] = field(default_factory=dict)

    def materialise(self, name: str, sql: str) -> None:
        """Create (or replace) the table ``name`` from ``sql``."""
        self._run(name, f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", fetch=False)

    def rows(self, name: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """All rows of ``sql``; ``name`` labels the query in timings and errors."""
        result = self._run(name, sql, fetch=True, params=params)
        assert result is not None
        return result

    def execute(self, name: str, sql: str) -> None:
        """Run a statement that returns nothing useful."""
        self._run(name, sql, fetch=False)

    def _run(
        self, name: str, sql: str, *, fetch: bool, params: list[Any] | None = None
    ) -> list[tuple[Any, ...]] | None:
        started = time.perf_counter()
        try:
            cursor = self.con.execute(sql, params or [])
            result = cursor.fetchall() if fetch else None
            if not fetch:
                cursor.fetchall()
        except duckdb.Error as exc:
            raise MiningError(f"query {name!r} failed: {exc}") from exc
        self.timings_s[name] = self.timings_s.get(name, 0.0) + time.perf_counter() - started
        return result
