"""Knowledge bases: the articles a suggestion can point to, in YAML or CSV.

An article has an ``id``, a ``title`` and an ``answer`` per language, and example questions
customers ask, in any language (the matcher learns from them)::

    name: my shop
    languages: [en, zh]
    articles:
      - id: returns
        title: {en: Returning an item, zh: 退货}
        answer: {en: You can return ..., zh: 未使用的商品 ...}
        examples:
          en: [How do I return an item?, I want to send this back]
          zh: [怎么退货？]

A CSV has one row per example: ``id,language,title,answer,example`` (title and answer may be
left empty after an article's first row in that language). ``default_kb()`` is the
cross-border e-commerce base we wrote in English and Simplified Chinese, so a new team gets
suggestions on the first run.

Mistakes name the file, the line and the field (``faq.yaml:14: articles[2].answer: ...``).
This module reads files only; it imports nothing else of supportflow.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from yaml.constructor import SafeConstructor

# libyaml's parser when PyYAML was built with it (its wheels are): 10 times faster on the
# default knowledge base, the same documents.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's parser when it is there."""
    return yaml.load(text, Loader=_YAML_LOADER)


_MAX_BYTES = 20_000_000
DEFAULT_KB = "kb_ecommerce.yaml"


class KnowledgeBaseError(ValueError):
    """A knowledge base file is unreadable or invalid; the message names file, line, field."""


class Article(BaseModel):
    """One answer a suggestion can point to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    title: dict[str, str] = Field(min_length=1)
    answer: dict[str, str] = Field(default_factory=dict)
    examples: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("examples")
    @classmethod
    def _examples(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for language, questions in value.items():
            for index, question in enumerate(questions):
                if not isinstance(question, str) or not question.strip():
                    raise ValueError(f"{language}[{index}]: an example is a non-empty text")
        return {lang: [q.strip() for q in qs] for lang, qs in value.items()}

    def texts(self) -> list[tuple[str, str]]:
        """``(language, text)`` of every title and example: what the matcher learns from."""
        titles = [(lang, text) for lang, text in self.title.items()]
        return titles + [(lang, q) for lang, qs in self.examples.items() for q in qs]


class KnowledgeBase(BaseModel):
    """A named set of articles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "knowledge base"
    languages: list[str] = Field(default_factory=list)
    articles: list[Article] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> KnowledgeBase:
        seen: set[str] = set()
        for article in self.articles:
            if article.id in seen:
                raise ValueError(f"article id {article.id!r} is used twice")
            seen.add(article.id)
        return self

    def article(self, article_id: str) -> Article:
        for article in self.articles:
            if article.id == article_id:
                return article
        raise KeyError(article_id)


def _lines(
    node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _lines(value, (*path, str(key.value)), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _where(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _field(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text or "(top level)"


def _validate(data: Any, source: str, lines: dict[tuple[str | int, ...], int]) -> KnowledgeBase:
    try:
        return KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:10]:
            loc = tuple(error["loc"])
            line = _where(loc, lines)
            where = f"{source}:{line}" if line is not None else source
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {_field(loc)}: {message}")
        raise KnowledgeBaseError("\n".join(problems)) from exc


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise KnowledgeBaseError(f"{path}: no such file")
    if path.stat().st_size > _MAX_BYTES:
        raise KnowledgeBaseError(f"{path}: larger than {_MAX_BYTES // 1_000_000} MB")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def parse_kb_yaml(text: str, source: str) -> KnowledgeBase:
    """A knowledge base from YAML text (``source`` names it in errors)."""
    try:
        # parsed once: the nodes give the line numbers, and the data are built from them
        node = yaml.compose(text, Loader=_YAML_LOADER)
        data = None if node is None else SafeConstructor().construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise KnowledgeBaseError(f"{source}{where}: invalid YAML: {exc.problem}") from exc
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{source}: a knowledge base is a mapping with `articles`")
    return _validate(data, source, lines)


def _parse_csv(text: str, source: str) -> KnowledgeBase:
    reader = csv.DictReader(text.splitlines())
    needed = {"id", "language", "title", "example"}
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise KnowledgeBaseError(
            f"{source}:1: missing column(s) {', '.join(sorted(missing))}; "
            "expected id,language,title,answer,example"
        )
    articles: dict[str, dict[str, Any]] = {}
    rows: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        article_id = (row.get("id") or "").strip()
        language = (row.get("language") or "").strip()
        if not article_id or not language:
            raise KnowledgeBaseError(f"{source}:{line}: id and language are required")
        entry = articles.setdefault(
            article_id, {"id": article_id, "title": {}, "answer": {}, "examples": {}}
        )
        rows.setdefault(article_id, line)
        for field in ("title", "answer"):
            value = (row.get(field) or "").strip()
            if value:
                entry[field].setdefault(language, value)
        example = (row.get("example") or "").strip()
        if example:
            entry["examples"].setdefault(language, []).append(example)
    data = {"name": Path(source).stem, "articles": list(articles.values())}
    lines: dict[tuple[str | int, ...], int] = {
        ("articles", index): rows[article_id] for index, article_id in enumerate(articles)
    }
    return _validate(data, source, lines)


def load_kb(path: str | Path) -> KnowledgeBase:
    """Read a knowledge base from a ``.yaml``/``.yml`` or ``.csv`` file.

    Raises:
        KnowledgeBaseError: unreadable or invalid, with file, line and field.
    """
    source = Path(path)
    text = _read_text(source)
    if source.suffix.lower() == ".csv":
        return _parse_csv(text, str(source))
    return parse_kb_yaml(text, str(source))


def default_kb() -> KnowledgeBase:
    """The cross-border e-commerce knowledge base shipped with supportflow (en, zh)."""
    text = resources.files("supportflow.triage").joinpath("data", DEFAULT_KB).read_text("utf-8")
    return parse_kb_yaml(text, DEFAULT_KB)
