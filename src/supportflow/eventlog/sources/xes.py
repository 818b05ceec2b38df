"""Streaming XES (IEEE 1849) reader.

An XES file is a ``<log>`` of ``<trace>`` elements (one per ticket), each holding ``<event>``
elements whose ``<string key="concept:name" value="..."/>`` children are the event's
attributes. We walk it with ``iterparse`` and free each trace once read, so a large log never
sits whole in memory. Trace attributes become ``case:<key>`` columns, as pm4py names them.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from lxml import etree

from supportflow.eventlog.errors import UnsupportedFormatError
from supportflow.eventlog.sources.batches import BatchBuilder

_ATTRIBUTE_TAGS = {"string", "date", "int", "float", "boolean", "id"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as raw:
        magic = raw.read(2)
    return cast(IO[bytes], gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb"))


def read_xes_batches(path: Path) -> Iterator[Any]:
    """Yield record batches of the events in the XES file at ``path`` (plain or gzipped).

    Raises:
        UnsupportedFormatError: the XML is malformed (with the line) or is not an XES log.
    """
    builder = BatchBuilder()
    with _open(path) as stream:
        context = etree.iterparse(
            stream, events=("start", "end"), huge_tree=True, resolve_entities=False, no_network=True
        )
        trace_attrs: dict[str, str | None] = {}
        event_attrs: dict[str, str | None] | None = None
        depth_in_event = 0
        saw_log = False
        try:
            for action, element in context:
                tag = _local(element.tag)
                if action == "start":
                    if tag == "log":
                        saw_log = True
                    elif tag == "trace":
                        trace_attrs = {}
                    elif tag == "event":
                        event_attrs = {}
                    elif event_attrs is not None and tag in _ATTRIBUTE_TAGS:
                        depth_in_event += 1
                    continue
                if tag == "event" and event_attrs is not None:
                    builder.add({**trace_attrs, **event_attrs})
                    event_attrs = None
                    element.clear()
                    if builder.full():
                        yield from builder.flush()
                elif tag in _ATTRIBUTE_TAGS:
                    key = element.get("key")
                    if event_attrs is not None:
                        depth_in_event -= 1
                        if key is not None and depth_in_event == 0:
                            event_attrs[key] = element.get("value")
                    elif key is not None and _local(element.getparent().tag) == "trace":
                        trace_attrs[f"case:{key}"] = element.get("value")
                elif tag == "trace":
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
    yield from builder.flush()
