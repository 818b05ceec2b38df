"""Reading JSON exports whatever their shape: one document, documents back to back, or JSON lines.

Help-desk exports arrive as one API page, several pages concatenated, or one record per line,
sometimes gzipped. :func:`iter_json_values` yields every top-level value with the line it starts
on, so an error can name the line.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from supportflow.eventlog.errors import EncodingError, UnsupportedFormatError

_WHITESPACE = re.compile(r"\s*")


def as_text(value: Any) -> str | None:
    """A JSON value as the string the canonical columns hold: ``None`` stays ``None``, booleans
    become ``true``/``false``, numbers their decimal form, objects and arrays compact JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def iter_json_values(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, value)`` for each top-level JSON value of the file at ``path``, in order.

    The file may be gzipped. When its first non-blank line is a complete JSON value, it is read
    as JSON lines, one value per non-blank line, without holding the file in memory. Otherwise
    it is read whole, as one or more values written back to back (a pretty-printed export page,
    or several). ``line`` is the 1-based line on which the value starts.

    Raises:
        UnsupportedFormatError: the JSON is malformed; the message names the file, the line and
            the column.
        EncodingError: the file is not UTF-8.
    """
    if _first_line_is_json(path):
        yield from _json_lines(path)
    else:
        yield from _json_documents(path)


def _open_bytes(path: Path) -> io.BufferedIOBase:
    with path.open("rb") as raw:
        magic = raw.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return path.open("rb")


def _decode(raw: bytes, *, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{path}: line {line} is not UTF-8 (byte {exc.start} of the line: {exc.reason}); "
            "JSON exports are UTF-8"
        ) from exc


def _malformed(path: Path, line: int, exc: json.JSONDecodeError) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        f"{path}: malformed JSON at line {line}, column {exc.colno}: {exc.msg}"
    )


def _first_line_is_json(path: Path) -> bool:
    with _open_bytes(path) as stream:
        for raw in stream:
            if raw.strip():
                try:
                    json.loads(raw.decode("utf-8-sig"))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    return False
                return True
    return False


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    with _open_bytes(path) as stream:
        for line, raw in enumerate(stream, start=1):
            # Without its line break, so that an error at the end of the line gets this line's
            # number and the column just past its last character.
            text = _decode(raw, path=path, line=line).rstrip("\r\n")
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _malformed(path, line, exc) from exc
            yield line, value


def _json_documents(path: Path) -> Iterator[tuple[int, Any]]:
    with _open_bytes(path) as stream:
        raw = stream.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise EncodingError(
            f"{path}: byte {exc.start} (line {line}) is not UTF-8 ({exc.reason}); "
            "JSON exports are UTF-8"
        ) from exc
    decoder = json.JSONDecoder()
    position = _skip_whitespace(text, 0)
    line, counted_to = 1, 0
    while position < len(text):
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise _malformed(path, exc.lineno, exc) from exc
        line += text.count("\n", counted_to, position)
        counted_to = position
        yield line, value
        position = _skip_whitespace(text, end)


def _skip_whitespace(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return position if match is None else match.end()


def records_in(
    value: Any,
    *,
    container: str,
    is_record: Callable[[dict[str, Any]], bool],
    path: Path,
    line: int,
    expected: str,
) -> Iterator[dict[str, Any]]:
    """The records in one top-level JSON value: a page holding them under ``container``, one
    record (``is_record``), or an array of either.

    Raises:
        UnsupportedFormatError: the value is none of these; the message says ``expected``.
    """
    items = value if isinstance(value, list) else None
    if isinstance(value, dict) and isinstance(value.get(container), list):
        items = value[container]
    if items is not None:
        for item in items:
            yield from records_in(
                item,
                container=container,
                is_record=is_record,
                path=path,
                line=line,
                expected=expected,
            )
        return
    if isinstance(value, dict) and is_record(value):
        yield value
        return
    found = f"an object with keys {sorted(value)[:8]}" if isinstance(value, dict) else repr(value)
    raise UnsupportedFormatError(f"{path}: line {line} is not {expected}; found {found[:120]}")
