"""Knowledge bases: the shipped default, YAML and CSV, and mistakes named by line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.triage.kb import KnowledgeBaseError, default_kb, load_kb


def test_the_default_base_covers_a_cross_border_shop_in_english_and_chinese() -> None:
    kb = default_kb()
    ids = {a.id for a in kb.articles}
    for needed in (
        "order_status", "shipping_times", "customs_vat", "returns", "refund_status",
        "payment_failed", "change_address", "damaged_item", "cancel_order",
    ):  # fmt: skip
        assert needed in ids
    for article in kb.articles:
        assert set(article.title) == {"en", "zh"}
        assert set(article.answer) == {"en", "zh"}
        assert len(article.examples["en"]) >= 4
        assert len(article.examples["zh"]) >= 4
    assert kb.article("returns").answer["zh"].startswith("未使用的商品")


def test_a_csv_base_reads_one_example_per_row(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,language,title,answer,example\n"
        "returns,en,Returns,Send it back within 30 days,How do I return this?\n"
        "returns,en,,,I want a refund\n"
        "returns,es,Devoluciones,,¿Cómo devuelvo un pedido?\n"
        "hours,en,Opening hours,Mon-Fri 9-17,When are you open?\n",
        encoding="utf-8",
    )
    kb = load_kb(path)
    returns = kb.article("returns")
    assert returns.examples == {
        "en": ["How do I return this?", "I want a refund"],
        "es": ["¿Cómo devuelvo un pedido?"],
    }
    assert returns.title == {"en": "Returns", "es": "Devoluciones"}
    assert [a.id for a in kb.articles] == ["returns", "hours"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("articles:\n  - id: a\n    title: {en: A}\n  - id: a\n    title: {en: B}\n", "used twice"),
        ("articles:\n  - id: a\n    title: {}\n", "faq.yaml:3: articles[0].title"),
        (
            "articles:\n  - id: a\n    title: {en: A}\n    examples: {en: ['  ']}\n",
            "faq.yaml:4: articles[0].examples",
        ),
        (
            "articles:\n  - id: a\n    titel: {en: A}\n",
            "faq.yaml:3: articles[0].titel: Extra inputs",
        ),
        ("articles: [\n", "faq.yaml:2: invalid YAML"),
        ("- just a list\n", "a knowledge base is a mapping"),
    ],
)
def test_mistakes_name_the_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_kb(path)
    assert message in str(caught.value)


def test_a_csv_without_its_columns_and_a_binary_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nhi,hello\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"faq\.csv:1: missing column"):
        load_kb(path)
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"\xff\xfe\x00\x00" * 10)
    with pytest.raises(KnowledgeBaseError, match="not UTF-8"):
        load_kb(junk)
    with pytest.raises(KnowledgeBaseError, match="no such file"):
        load_kb(tmp_path / "missing.yaml")
