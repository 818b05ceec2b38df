"""The sentiment seed data: its schema, its balance per language and label, and its scripts."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

import supportflow.triage

SEED = Path(supportflow.triage.__file__).parent / "data" / "sentiment_seed.yaml"
LANGUAGES = {"en", "zh", "es", "pt", "de", "fr"}
LABELS = {"negative", "neutral", "positive"}
KEYS = {"text", "language", "sentiment", "urgent"}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@pytest.fixture(scope="module")
def messages() -> list[dict[str, Any]]:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    assert set(data) == {"messages"}
    assert isinstance(data["messages"], list)
    return data["messages"]


def test_every_message_has_exactly_the_four_keys_with_valid_values(
    messages: list[dict[str, Any]],
) -> None:
    for i, message in enumerate(messages):
        assert isinstance(message, dict), i
        assert set(message) == KEYS, (i, message)
        assert isinstance(message["text"], str) and message["text"].strip(), (i, message)
        assert message["text"] == message["text"].strip(), (i, message)
        assert message["language"] in LANGUAGES, (i, message)
        assert message["sentiment"] in LABELS, (i, message)
        assert isinstance(message["urgent"], bool), (i, message)
        if message["urgent"]:
            assert message["sentiment"] == "negative", (i, message)


def test_the_six_languages_each_have_every_label_and_urgent_messages(
    messages: list[dict[str, Any]],
) -> None:
    assert {m["language"] for m in messages} == LANGUAGES
    per_label = Counter((m["language"], m["sentiment"]) for m in messages)
    urgent = Counter(m["language"] for m in messages if m["urgent"])
    for language in LANGUAGES:
        for label in LABELS:
            assert per_label[language, label] >= 60, (language, label, per_label[language, label])
        assert urgent[language] >= 20, (language, urgent[language])
        # urgent is a subset of negative: some negatives must stay non-urgent
        assert per_label[language, "negative"] - urgent[language] >= 20, language


def test_no_text_appears_twice(messages: list[dict[str, Any]]) -> None:
    counts = Counter(" ".join(m["text"].casefold().split()) for m in messages)
    assert [text for text, n in counts.items() if n > 1] == []


def test_chinese_messages_are_written_in_chinese_characters_and_the_others_are_not(
    messages: list[dict[str, Any]],
) -> None:
    for message in messages:
        has_cjk = CJK.search(message["text"]) is not None
        assert has_cjk == (message["language"] == "zh"), message


def test_the_seed_ships_with_the_package_under_the_project_licence() -> None:
    header = SEED.read_text(encoding="utf-8").split("messages:", 1)[0]
    assert "Apache-2.0" in header
    assert "supportflow" in header
