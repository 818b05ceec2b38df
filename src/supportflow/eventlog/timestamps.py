"""Reading timestamps as help desks write them.

Exports disagree on how to write an instant: ISO 8601 with an offset (Zendesk, Jira), a
day-first date with an offset (Freshdesk), a zone-less day-first date (ServiceNow), a
year-first date without padding (the Disco export of the demo log), or Unix seconds. This module
looks at the values of a timestamp column and decides how DuckDB should parse them.

Day-first or month-first is decided from the data: a value whose first part is above 12
proves day-first, one whose second part is above 12 proves month-first. When no value decides
it, we refuse to guess and ask for ``--date-order``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from supportflow.eventlog.errors import TimestampFormatError

DateOrder = Literal["dmy", "mdy"]

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
    r"\s*(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_YEAR_FIRST = re.compile(r"^(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?P<time>[ T].*)?$")
_DAY_OR_MONTH_FIRST = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?P<time>[ T].*)?$")
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
_TIME = re.compile(
    r"^[ T](?P<h>\d{1,2}):(?P<m>\d{2})(?P<s>:\d{2})?(?P<f>\.\d{1,9})?"
    r"(?P<ampm>\s*[AaPp][Mm])?(?P<tz>\s*(Z|[+-]\d{2}:?\d{2}))?$"
)


@dataclass(frozen=True)
class TimestampFormat:
    """How to parse one column: ``kind`` and the strptime formats DuckDB will try in order."""

    kind: Literal["native", "iso", "strptime", "epoch_s", "epoch_ms"]
    formats: tuple[str, ...] = ()
    date_order: DateOrder | None = None
    has_offset: bool = False
    explanation: str = ""

    def describe(self) -> str:
        """A short human description, e.g. ``%d/%m/%Y %H:%M (day-first)``."""
        if self.kind in ("native", "iso", "epoch_s", "epoch_ms"):
            return {
                "native": "typed timestamp column",
                "iso": "ISO 8601",
                "epoch_s": "Unix seconds",
                "epoch_ms": "Unix milliseconds",
            }[self.kind]
        order = {"dmy": " (day-first)", "mdy": " (month-first)", None: ""}[self.date_order]
        return " | ".join(self.formats) + order


def _time_formats(time_samples: Sequence[str]) -> tuple[list[str], bool]:
    """The strptime time-of-day formats that cover the sampled time parts, and whether any has
    an offset."""
    found: list[str] = []
    has_offset = False
    for text in time_samples:
        match = _TIME.match(text)
        if match is None:
            continue
        sep = text[0]
        fmt = sep + ("%I" if match["ampm"] else "%H") + ":%M"
        if match["s"]:
            fmt += ":%S"
        if match["f"]:
            fmt += ".%f"
        if match["ampm"]:
            fmt += " %p" if match["ampm"].startswith(" ") else "%p"
        if match["tz"]:
            has_offset = True
            space = " " if match["tz"].startswith(" ") else ""
            # DuckDB's %z does not read "Z": it is matched as a letter and means UTC.
            fmt += space + ("Z" if match["tz"].strip() == "Z" else "%z")
        if fmt not in found:
            found.append(fmt)
    # A value with fractional seconds may sit beside ones without: try the longer form first.
    found.sort(key=lambda f: -len(f))
    return found, has_offset


def detect_timestamp_format(
    samples: Sequence[str],
    *,
    column: str,
    date_order: DateOrder | None = None,
    first_parts_max: int | None = None,
    second_parts_max: int | None = None,
) -> TimestampFormat:
    """Decide how to parse a timestamp column from sampled values.

    ``first_parts_max`` and ``second_parts_max`` are the largest first and second date parts
    over the *whole* column (computed by the caller for day/month-first data); they decide the
    order when ``date_order`` is not given.

    Raises:
        TimestampFormatError: no sample looks like a timestamp, the samples mix incompatible
            layouts, or the day/month order is ambiguous and not given.
    """
    values = [s.strip() for s in samples if s and s.strip()]
    if not values:
        raise TimestampFormatError(f"timestamp column {column!r} has no values")
    # A few bad values must not hide the column's layout: decide on the values that fit the
    # most common layout (the others fail to parse later and are rejected with their row).
    layouts = {
        "iso": [v for v in values if _ISO.match(v)],
        "epoch": [v for v in values if _EPOCH.match(v)],
        "year_first": [v for v in values if _YEAR_FIRST.match(v)],
        "day_or_month": [v for v in values if _DAY_OR_MONTH_FIRST.match(v)],
    }
    dominant = max(layouts.values(), key=len)
    if len(dominant) * 2 < len(values):
        odd = next(v for v in values if v not in dominant)
        raise TimestampFormatError(
            f"cannot tell the timestamp format of column {column!r}: values such as {odd!r} are "
            "not ISO 8601, day/month-first or year-first dates, nor Unix epochs"
        )
    values = dominant
    if all(_ISO.match(v) for v in values):
        return TimestampFormat(
            kind="iso",
            has_offset=any(re.search(r"(Z|[+-]\d{2}:?\d{2})$", v) for v in values),
            explanation=f"column {column!r} holds ISO 8601 timestamps",
        )
    if all(_EPOCH.match(v) for v in values):
        kind: Literal["epoch_s", "epoch_ms"] = (
            "epoch_ms" if all(len(v.split(".")[0]) >= 12 for v in values) else "epoch_s"
        )
        return TimestampFormat(
            kind=kind,
            explanation=f"column {column!r} holds Unix epochs in "
            + ("milliseconds" if kind == "epoch_ms" else "seconds"),
        )
    year_first = [_YEAR_FIRST.match(v) for v in values]
    if all(year_first):
        sep = year_first[0][2]  # type: ignore[index]
        times, has_offset = _time_formats([m["time"] for m in year_first if m and m["time"]])
        date_fmt = f"%Y{sep}%m{sep}%d"
        return TimestampFormat(
            kind="strptime",
            formats=tuple([date_fmt + t for t in times] + ([date_fmt] if not times else [])),
            has_offset=has_offset,
            explanation=f"column {column!r} holds year-first dates ({date_fmt})",
        )
    day_or_month = [_DAY_OR_MONTH_FIRST.match(v) for v in values]
    if all(day_or_month):
        matches = [m for m in day_or_month if m]
        sep = matches[0][2]
        year = "%Y" if len(matches[0][4]) == 4 else "%y"
        order, reason = _decide_order(
            column=column,
            date_order=date_order,
            first_max=first_parts_max
            if first_parts_max is not None
            else max(int(m[1]) for m in matches),
            second_max=second_parts_max
            if second_parts_max is not None
            else max(int(m[3]) for m in matches),
            example=values[0],
        )
        date_fmt = f"%d{sep}%m{sep}{year}" if order == "dmy" else f"%m{sep}%d{sep}{year}"
        times, has_offset = _time_formats([m["time"] for m in matches if m["time"]])
        return TimestampFormat(
            kind="strptime",
            formats=tuple([date_fmt + t for t in times] + ([date_fmt] if not times else [])),
            date_order=order,
            has_offset=has_offset,
            explanation=f"column {column!r}: {reason}",
        )
    raise TimestampFormatError(f"cannot tell the timestamp format of column {column!r}")


def _decide_order(
    *, column: str, date_order: DateOrder | None, first_max: int, second_max: int, example: str
) -> tuple[DateOrder, str]:
    if date_order is not None:
        return date_order, f"date order {date_order}, as given by the preset or --date-order"
    if first_max > 12 and second_max > 12:
        raise TimestampFormatError(
            f"column {column!r} mixes day-first and month-first dates (first parts reach "
            f"{first_max}, second parts reach {second_max}); fix the export or pass --date-order"
        )
    if first_max > 12:
        return "dmy", f"day-first: first date parts reach {first_max}, so they are days"
    if second_max > 12:
        return "mdy", f"month-first: second date parts reach {second_max}, so they are days"
    raise TimestampFormatError(
        f"dates in column {column!r} such as {example!r} could be day-first or month-first and "
        "no value decides it; pass --date-order dmy or --date-order mdy"
    )


def order_probe_sql(column_sql: str) -> str:
    """SQL expressions for the largest first and second date parts of a day/month-first column."""
    first = f"max(try_cast(regexp_extract(trim({column_sql}), '^(\\d{{1,2}})[/.-]', 1) AS INTEGER))"
    second = (
        f"max(try_cast(regexp_extract(trim({column_sql}), '^\\d{{1,2}}[/.-](\\d{{1,2}})[/.-]', 1)"
        " AS INTEGER))"
    )
    return f"{first}, {second}"


def parse_sql(column_sql: str, fmt: TimestampFormat, source_type: str, *, zone_is_utc: bool) -> str:
    """A DuckDB expression giving the instant as UTC epoch microseconds, or NULL when unparseable.

    Naive values are read in the connection's ``TimeZone`` setting, which the loader sets to the
    user's ``--timezone``; ``zone_is_utc`` says that zone is UTC, so the (costly) zone conversion
    can be skipped.
    """
    kind = source_type.upper()
    if fmt.kind == "native":
        if kind.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"epoch_us({column_sql})"
        if kind.startswith("TIMESTAMP") or kind == "DATE":
            if zone_is_utc:
                return f"epoch_us(CAST({column_sql} AS TIMESTAMP))"
            return f"epoch_us(CAST({column_sql} AS TIMESTAMPTZ))"
        raise TimestampFormatError(f"cannot read {source_type} as a timestamp")
    text = column_sql if kind == "VARCHAR" else f"CAST({column_sql} AS VARCHAR)"
    if fmt.kind == "iso":
        return f"epoch_us(TRY_CAST(trim({text}) AS TIMESTAMPTZ))"
    if fmt.kind in ("epoch_s", "epoch_ms"):
        # The unit is read per value (12 digits or more: milliseconds), so an export that
        # mixes the two cannot put an event in the year 55840.
        number = f"TRY_CAST(trim({text}) AS DOUBLE)"
        return (
            f"CAST(round(CASE WHEN length(split_part(trim({text}), '.', 1)) >= 12 "
            f"THEN {number} * 1000 ELSE {number} * 1000000 END) AS BIGINT)"
        )

    def group(formats: list[str], value: str) -> str | None:
        if not formats:
            return None
        quoted = ["'" + f.replace("'", "''") + "'" for f in formats]
        listed = quoted[0] if len(quoted) == 1 else "[" + ", ".join(quoted) + "]"
        return f"try_strptime({value}, {listed})"

    # Formats with an offset, with a literal Z (UTC) and without either are tried separately:
    # in one list DuckDB lets a value without an offset inherit the previous row's.
    with_offset = [f for f in fmt.formats if "%z" in f]
    zulu = [f for f in fmt.formats if "%z" not in f and f.endswith("Z")]
    naive = [f for f in fmt.formats if "%z" not in f and not f.endswith("Z")]

    def parsed(value: str) -> str:
        tries = []
        if (offset_sql := group(with_offset, value)) is not None:
            tries.append(f"epoch_us({offset_sql})")
        if (zulu_sql := group(zulu, value)) is not None:
            tries.append(f"epoch_us({zulu_sql})")  # a naive TIMESTAMP's epoch is read as UTC
        if (naive_sql := group(naive, value)) is not None:
            tries.append(
                f"epoch_us({naive_sql})"
                if zone_is_utc
                else f"epoch_us(CAST({naive_sql} AS TIMESTAMPTZ))"
            )
        return tries[0] if len(tries) == 1 else "coalesce(" + ", ".join(tries) + ")"

    # Most values need no trimming; the trimmed retry runs only for those that failed.
    return f"coalesce({parsed(text)}, {parsed(f'trim({text})')})"
