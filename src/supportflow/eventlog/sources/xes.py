"""Streaming XES (IEEE 1849) reader.

An XES file is a ``<log>`` of ``<trace>`` elements (one per ticket), each holding ``<event>``
elements whose ``<string key="concept:name" value="..."/>`` children are the event's
attributes. We walk it with ``iterparse`` and free each trace once read, so a large log never
sits whole in memory. Trace attributes become ``case:<key>`` columns, as pm4py names them.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from lxml import etree

from supportflow.eventlog.errors import UnsupportedFormatError
from supportflow.eventlog.sources.batches import batched

_ATTRIBUTE_TAGS = {"string", "date", "int", "float", "boolean", "id"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as raw:
        magic = raw.read(2)
    return cast(IO[bytes], gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb"))


@functools.cache
def _is_attribute(tag: str) -> bool:
    return _local(tag) in _ATTRIBUTE_TAGS


def _attributes(element: Any, prefix: str = "") -> dict[str, str | None]:
    """The key/value attributes directly under ``element`` (nested attribute lists are not
    flattened)."""
    found: dict[str, str | None] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and _is_attribute(tag):
            key = child.get("key")
            if key is not None:
                found[prefix + key] = child.get("value")
    return found


def read_xes_batches(path: Path) -> Iterator[Any]:
    """Yield record batches of the events in the XES file at ``path`` (plain or gzipped).

    Only the ends of ``<event>`` and ``<trace>`` elements reach Python; an event's attributes are
    read from its children, a trace's from the attribute children that precede its first event
    (XES puts them first).

    Raises:
        UnsupportedFormatError: the XML is malformed (with the line) or is not an XES log.
    """
    return batched(_xes_rows(path))


def _xes_rows(path: Path) -> Iterator[dict[str, str | None]]:
    """One row per event: the trace's attributes (``case:`` prefix) and the event's own."""
    with _open(path) as stream:
        context = etree.iterparse(
            stream,
            events=("start", "end"),
            tag=("{*}log", "{*}trace", "{*}event"),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
        )
        trace_attrs: dict[str, str | None] | None = None
        saw_log = False
        try:
            for action, element in context:
                tag = _local(element.tag)
                if action == "start":
                    saw_log = saw_log or tag == "log"
                    continue
                if tag == "event":
                    trace = element.getparent()
                    if trace_attrs is None:
                        trace_attrs = _attributes(trace, "case:") if trace is not None else {}
                    yield {**trace_attrs, **_attributes(element)}
                    element.clear()
                elif tag == "trace":
                    trace_attrs = None
                    element.clear()
                    parent = element.getparent()
                    if parent is not None:
                        while element.getprevious() is not None:
                            del parent[0]
        except etree.XMLSyntaxError as exc:
            raise UnsupportedFormatError(
                f"{path}: malformed XML at line {exc.lineno}: {exc.msg}"
            ) from exc
        if not saw_log:
            raise UnsupportedFormatError(
                f"{path}: XML without a <log> element is not an XES event log"
            )
