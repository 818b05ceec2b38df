"""Small helpers for writing DuckDB SQL safely: quoting names and values from users' files."""

from __future__ import annotations

from typing import Any

import duckdb


def literal(text: str) -> str:
    """``text`` as a SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The single value of a one-row, one-column query."""
    return con.execute(sql).fetchall()[0][0]
