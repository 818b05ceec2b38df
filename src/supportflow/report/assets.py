"""The files the report inlines: its stylesheet, the process map script and vendored Graphviz.

A report is one HTML file that must open offline, so every script and style is copied into it.
Text inside an inline ``<script>`` or ``<style>`` element ends at the first ``</script`` or
``</style``, whatever the JavaScript around it means, so each file is checked for that before
it is inlined; a file that fails the check is a packaging bug and raises ``ValueError``.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

VENDORED_GRAPHVIZ = {"package": "@hpcc-js/wasm-graphviz", "version": "1.29.2", "graphviz": "16.1.0"}
"""What ``vendor/wasm-graphviz.js`` is (see ``vendor/README.md``); shown in the report footer."""

GRAPHVIZ_GLOBAL = "supportflowGraphviz"
"""The global object through which the inlined Graphviz module hands its exports to the map."""

_EXPORT_STATEMENT = re.compile(r"export\s*\{([^{}]*)\};?")
_EXPORT_ITEM = re.compile(r"^\s*([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$")
_SOURCE_MAP_COMMENT = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def _read(folder: str, name: str) -> str:
    return (resources.files("supportflow.report") / folder / name).read_text(encoding="utf-8")


def _check_inlinable(text: str, *, name: str, element: str) -> str:
    lowered = text.lower()
    for marker in (f"</{element}", "<!--"):
        if marker in lowered:
            raise ValueError(f"{name} contains {marker!r} and cannot be inlined in <{element}>")
    return text


@functools.cache
def stylesheet() -> str:
    """The report's CSS, ready for an inline ``<style>`` element."""
    return _check_inlinable(_read("templates", "report.css"), name="report.css", element="style")


@functools.cache
def process_map_script() -> str:
    """The process map's JavaScript, ready for an inline ``<script type="module">``."""
    return _check_inlinable(
        _read("templates", "process_map.js"), name="process_map.js", element="script"
    )


def expose_module_exports(module_text: str, *, global_name: str) -> str:
    """An ES module whose final ``export{a as B, ...}`` becomes ``globalThis[global_name]``.

    A module inlined in a page cannot be imported by another inline script; assigning its
    exports to one global lets the map script, which runs after it, use them. Raises
    ``ValueError`` unless the module has exactly one export statement, the bundler's shape.
    """
    statements = list(_EXPORT_STATEMENT.finditer(module_text))
    if len(statements) != 1:
        raise ValueError(f"expected one export statement, found {len(statements)}")
    statement = statements[0]
    members = []
    for item in statement.group(1).split(","):
        match = _EXPORT_ITEM.match(item)
        if match is None:
            raise ValueError(f"unexpected export item {item.strip()!r}")
        local, exported = match.group(1), match.group(2) or match.group(1)
        members.append(f"{exported}:{local}")
    assignment = f"globalThis.{global_name}=Object.freeze({{{','.join(members)}}});"
    rewritten = module_text[: statement.start()] + assignment + module_text[statement.end() :]
    # The source map is not shipped; a dangling reference would make devtools fetch a file.
    return _SOURCE_MAP_COMMENT.sub("", rewritten)


@functools.cache
def graphviz_module_script() -> str:
    """Vendored Graphviz (WebAssembly inlined), ready for an inline ``<script type="module">``;
    it defines ``globalThis.supportflowGraphviz.Graphviz``."""
    module_text = _read("vendor", "wasm-graphviz.js")
    script = expose_module_exports(module_text, global_name=GRAPHVIZ_GLOBAL)
    return _check_inlinable(script, name="wasm-graphviz.js", element="script")
