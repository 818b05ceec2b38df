"""Reading rule files: YAML validated by pydantic models, errors that name the line and field.

A team writes its status map, SLA policy and alert rules by hand, so a mistake must be easy to
find: ``sla.yaml:14: targets[2].resolution: not a duration: '3 dayz' (use 90s, 15m, 4h, 2d)``.
PyYAML's composer keeps the position of every node; pydantic's errors carry the path of the
field; this module joins the two.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

ModelT = TypeVar("ModelT", bound=BaseModel)

_MAX_BYTES = 2_000_000


class RulesError(ValueError):
    """A rule file is unreadable or invalid; the message names the file, line and field."""


class _DuplicateKey(Exception):
    def __init__(self, field: str, line: int) -> None:
        super().__init__(field)
        self.field, self.line = field, line


def _node_lines(
    node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    """Record the 1-based line of every node under ``node`` by its path of keys and indices."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in seen:
                # YAML keeps the last of two equal keys; a rule file must not lose one silently
                raise _DuplicateKey(format_loc((*path, key)), key_node.start_mark.line + 1)
            seen.add(key)
            _node_lines(value_node, (*path, key), out)
            # A field is reported at its key, also when its value is a block on later lines.
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*path, index), out)


def line_of(lines: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    """The line of the deepest existing node on ``loc`` (a missing field points at its parent)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def format_loc(loc: tuple[str | int, ...]) -> str:
    """``("targets", 2, "resolution")`` → ``targets[2].resolution``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse ``path`` into plain Python values and a map from field paths to line numbers.

    Raises:
        RulesError: the file is missing, too large, not UTF-8 or not valid YAML.
    """
    source = Path(path)
    if not source.is_file():
        raise RulesError(f"{source}: no such file")
    if source.stat().st_size > _MAX_BYTES:
        raise RulesError(f"{source}: larger than {_MAX_BYTES // 1_000_000} MB; not a rule file")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise RulesError(f"{source}{where}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: invalid YAML: {exc}") from exc
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        try:
            _node_lines(node, (), lines)
        except _DuplicateKey as duplicate:
            raise RulesError(
                f"{source}:{duplicate.line}: {duplicate.field}: given twice; "
                "keep one (YAML would silently use the last)"
            ) from None
    return data, lines


def _clean_message(message: str) -> str:
    # pydantic prefixes custom errors with "Value error, "; the field name already says enough.
    return re.sub(r"^(Value|Assertion) error, ", "", message)


def validate_data(
    model: type[ModelT],
    data: Any,
    *,
    source: str,
    lines: dict[tuple[str | int, ...], int] | None = None,
) -> ModelT:
    """Validate already-parsed ``data`` as ``model``; errors name ``source``, line and field.

    Raises:
        RulesError: one line per problem (at most ten), the first problems first.
    """
    if data is None:
        raise RulesError(f"{source}: the file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:10]:
            loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            line = line_of(lines or {}, loc)
            where = f"{source}:{line}" if line is not None else source
            problems.append(f"{where}: {format_loc(loc)}: {_clean_message(error['msg'])}")
        raise RulesError("\n".join(problems)) from exc


def load_model(model: type[ModelT], path: str | Path) -> ModelT:
    """Read the YAML file at ``path`` as ``model``.

    Raises:
        RulesError: the file cannot be read, is not YAML, or does not fit ``model``; the message
            names the line and the field of each problem.
    """
    data, lines = read_yaml(path)
    return validate_data(model, data, source=str(path), lines=lines)


def fail_at(
    kind: str, title: str, problems: list[tuple[tuple[str | int, ...], str, object]]
) -> NoReturn:
    """Raise a pydantic ``ValidationError`` whose problems sit at their ``loc`` (relative to the
    field being validated), so that :func:`validate_data` reports each at its own line."""
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError(kind, "{message}", {"message": message}),
                loc=loc,
                input=value,
            )
            for loc, message, value in problems
        ],
    )
