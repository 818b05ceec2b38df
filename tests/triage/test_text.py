"""Cleaning messages: HTML, quoted history, control characters, length, binary junk."""

from __future__ import annotations

import time

import pytest

from supportflow.triage import Cleaned, clean


def test_empty_text_is_empty() -> None:
    assert clean("") == Cleaned("")


def test_whitespace_is_collapsed() -> None:
    assert clean("  where   is\n\n my\torder  ") == Cleaned("where is my order")


def test_control_characters_are_removed() -> None:
    text = "where\x07 is my order? It has been two weeks now\x1b"
    assert clean(text) == Cleaned("where is my order? It has been two weeks now")


def test_html_becomes_its_visible_text() -> None:
    html = (
        "<html><head><title>x</title><style>p {color: red}</style></head><body>"
        "<p>Where is my order &amp; my refund?</p><script>alert(1)</script></body></html>"
    )
    assert clean(html) == Cleaned("Where is my order & my refund?", was_html=True)


def test_ticket_placeholders_are_not_html() -> None:
    assert clean("Hello <name>, thanks") == Cleaned("Hello <name>, thanks")


def test_english_html_email_loses_its_quoted_history() -> None:
    html = (
        "<div>My parcel has not arrived.</div><br>"
        "<div>On Mon, 1 Jan 2024 at 10:00, Shop Support &lt;help@shop.example&gt; wrote:</div>"
        "<blockquote>&gt; Your order has shipped.</blockquote>"
    )
    assert clean(html) == Cleaned("My parcel has not arrived.", removed_quote=True, was_html=True)


def test_chinese_email_loses_its_quoted_history() -> None:
    text = "我的订单还没到。\n\n发件人: 客服 <help@shop.example>\n发送时间: 2024年1月1日\n主题: 订单已发货\n您的订单已发货。"
    assert clean(text) == Cleaned("我的订单还没到。", removed_quote=True)


def test_chinese_wrote_line_starts_the_history() -> None:
    text = "还没收到退款\n在 2024年1月1日，客服 写道：\n退款已处理"
    assert clean(text) == Cleaned("还没收到退款", removed_quote=True)


@pytest.mark.parametrize(
    "history",
    [
        "-----Original Message-----\nFrom: Shop\nYour order shipped.",
        "From: Shop Support\nSent: Monday, 1 January 2024\nYour order shipped.",
        "On Mon, 1 Jan 2024 at 10:00, Shop Support <help@shop.example>\nwrote:\nYour order shipped.",
        "Am 01.01.2024 schrieb Shop Support:\nIhre Bestellung ist unterwegs.",
    ],
)
def test_plain_text_history_headers_cut_the_rest(history: str) -> None:
    assert clean(f"Still waiting.\n\n{history}") == Cleaned("Still waiting.", removed_quote=True)


def test_lines_quoted_with_a_bracket_are_dropped() -> None:
    text = "> Your order shipped.\n> Tracking: 123\nIt has not arrived."
    assert clean(text) == Cleaned("It has not arrived.", removed_quote=True)


def test_a_message_that_is_only_history_is_empty() -> None:
    assert clean("> Your order shipped.") == Cleaned("", removed_quote=True)


def test_one_megabyte_is_cut_and_cleaned_in_under_50_ms() -> None:
    text = "<p>My parcel is late.</p>" * 50_000
    assert len(text) > 1_000_000
    start = time.perf_counter()
    cleaned = clean(text)
    elapsed = time.perf_counter() - start
    assert cleaned.truncated
    assert cleaned.was_html
    assert len(cleaned.text) <= 20_000
    assert elapsed < 0.05


def test_binary_junk_is_discarded_with_a_reason() -> None:
    cleaned = clean(bytes(range(256)) * 10)
    assert cleaned.text == ""
    assert cleaned.discarded is not None
    assert cleaned.discarded.startswith("binary junk")


def test_nul_bytes_in_text_are_junk() -> None:
    assert clean("\x00" * 100 + "hi").discarded is not None


def test_utf8_bytes_are_decoded() -> None:
    assert clean("¿Dónde está mi pedido?".encode()) == Cleaned("¿Dónde está mi pedido?")


def test_right_to_left_text_is_kept_as_is() -> None:
    assert clean("  أين طلبي؟  ") == Cleaned("أين طلبي؟")


def test_emoji_only_is_kept() -> None:
    assert clean("😀 🎉") == Cleaned("😀 🎉")


def test_broken_html_does_not_raise() -> None:
    assert clean("<div><p>Where is <b>my order").text == "Where is my order"


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        clean("hi", max_chars=0)
