"""The data behind the interactive process map, as compact JSON for the page's script.

A process map is a directly-follows graph: one box per activity and one arrow from "Assign
seriousness" to "Take in charge ticket" for every time a ticket went straight from the first
to the second, labelled with how often that happened or how long the ticket waited in
between. Artificial "start" and "end" nodes show where cases begin and finish.

The page lays the graph out with Graphviz (compiled to WebAssembly and inlined, see
``vendor/README.md``) each time the reader changes the view or the rare-path threshold, so
this module only ships the numbers: activities by index, arrows as
``[source, target, count, median_s, total_s, p90_s]``, and start and end counts.
"""

from __future__ import annotations

from typing import Any

from supportflow.report.i18n import Language

MAX_MAP_EDGES = 2000
"""Arrows shipped in the page, most frequent first. Graphviz lays out a few hundred arrows in
about a second; the rest would only be hidden by the slider anyway."""

DEFAULT_VISIBLE_EDGES = 30
"""The slider starts at the lowest threshold that keeps at most this many arrows, so a log with
thousands of arrows opens on a readable map instead of a hairball."""

MAX_DRAWN_ARROWS = 150
"""The slider cannot go below the threshold that keeps this many arrows. On a tangled log of
300 activities Graphviz lays out that many (plus the arrows that keep boxes connected) in
about two seconds, and twice as many in over ten, during which the page is frozen."""

_JS_TEXT_KEYS = (
    "map_status",
    "map_loading",
    "map_error",
    "map_start",
    "map_end",
    "map_legend_frequency",
    "map_legend_waiting",
    "map_floor",
    "map_tip_edge",
    "map_tip_node",
)


def map_data(doc: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """The JSON object the process map script reads (see ``templates/process_map.js``)."""
    edges = doc["dfg"][:MAX_MAP_EDGES]
    names: list[str] = []
    index: dict[str, int] = {}

    def node(name: str) -> int:
        if name not in index:
            index[name] = len(names)
            names.append(name)
        return index[name]

    # Activities first, most frequent first, so that node order (and layout) is stable.
    activity_events: dict[str, int] = doc["activities"]
    for name in sorted(activity_events, key=lambda name: (-activity_events[name], name)):
        node(name)
    edge_rows = [
        [
            node(edge["source"]),
            node(edge["target"]),
            edge["count"],
            edge["median_s"],
            edge["total_s"],
            edge["p90_s"],
        ]
        for edge in edges
    ]
    return {
        "activities": [[name, activity_events.get(name, 0)] for name in names],
        "edges": edge_rows,
        "starts": [[node(name), cases] for name, cases in doc["start_activities"].items()],
        "ends": [[node(name), cases] for name, cases in doc["end_activities"].items()],
        "total_edges": len(doc["dfg"]),
        "default_visible_edges": DEFAULT_VISIBLE_EDGES,
        "max_drawn_arrows": MAX_DRAWN_ARROWS,
        "units": lang.numbers.js_units(),
        "text": {key: lang.text[key] for key in _JS_TEXT_KEYS},
    }
