"""Clean a customer's message before triage reads it.

A message arrives as whatever the channel delivered: a chat line, a plain e-mail, or an HTML
e-mail whose body carries the whole earlier thread ("On Mon, Anna wrote: > ..."). Triage should
judge only what the customer wrote this time, so :func:`clean` turns the message into plain
text, cuts the quoted history, removes control characters, collapses whitespace and caps the
length. It reports each thing it did, so a caller can tell "the customer wrote nothing new"
from "the message was binary junk".

Every input has a defined answer and none raises: empty text gives empty text; 1 MB of text is
cut to ``max_chars`` *before* any parsing, so the cost stays bounded; bytes that are not UTF-8,
or text made mostly of control characters, give empty text with ``discarded`` saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

DEFAULT_MAX_CHARS = 20_000

# Share of control / undecodable characters above which a message is binary junk, not text.
_JUNK_SHARE = 0.10

# Tags that prove a body is HTML. Ticket bodies also contain placeholders such as "<name>", so
# any "<word>" alone is not enough.
_HTML_TAG = re.compile(
    r"<\s*/?\s*(html|head|body|div|p|br|span|table|tr|td|a|b|i|u|font|meta|style|script|"
    r"blockquote|ul|ol|li|h[1-6]|strong|em|img|hr)\b[^>]*>",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
)
_DROPPED_TAGS = frozenset({"script", "style", "head", "title"})

# Control characters (C0 and C1 except tab and newlines), lone surrogates and U+FFFD, the mark
# a failed decode leaves behind.
_JUNK_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")

# A line that opens the quoted history: everything from it on is the earlier thread.
_WROTE = re.compile(
    r"(wrote|schrieb|a écrit|escribió|escreveu|ha scritto|schreef|написал|написала|写道|寫道|"
    r"작성|書きました)\s*[:：]\s*$"
    r"|^am .{5,200} schrieb .{1,200}:\s*$",  # German puts the writer after the verb
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(original message|ursprüngliche nachricht|mensaje original|message d'origine|"
    r"messaggio originale|mensagem original|oorspronkelijk bericht|исходное сообщение|"
    r"原始邮件|原始郵件|元のメッセージ|원본 메시지)\s*-{2,}",
    re.IGNORECASE,
)
_FROM_HEADER = re.compile(
    r"^\*?(from|von|de|da|van|från|от|发件人|寄件者|差出人|보낸 사람)\*?\s*[:：]", re.IGNORECASE
)
_SENT_HEADER = re.compile(
    r"^\*?(sent|date|gesendet|datum|envoyé|enviado|fecha|data|inviato|verzonden|отправлено|"
    r"发送时间|日期|時間|寄件日期|送信日時|보낸 날짜)\*?\s*[:：]",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Cleaned:
    """A message ready for triage, and what :func:`clean` did to it.

    ``discarded`` is ``None`` for text, or the reason the input was dropped (binary junk);
    then ``text`` is empty.
    """

    text: str
    truncated: bool = False
    removed_quote: bool = False
    was_html: bool = False
    discarded: str | None = None


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML body; drops scripts, styles and blockquotes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quoted = False
        self._dropped_depth = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_TAGS:
            self._dropped_depth += 1
        elif tag == "blockquote" or _is_quote_container(attrs) or self._quote_depth:
            # Mail clients wrap the earlier thread in <blockquote> or a "gmail_quote" div.
            # Once inside, every nested tag counts, so the matching end tag closes the quote.
            self._quote_depth += 1
            self.quoted = True
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        elif self._quote_depth:
            self._quote_depth -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropped_depth and not self._quote_depth:
            self.parts.append(data)


def _is_quote_container(attrs: list[tuple[str, str | None]]) -> bool:
    classes = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
    return any(marker in classes for marker in ("gmail_quote", "moz-cite", "yahoo_quoted"))


def html_to_text(html: str) -> tuple[str, bool]:
    """Return the visible text of ``html`` and whether a quoted block was dropped.

    Entities are unescaped; ``<script>``, ``<style>`` and ``<head>`` are dropped; block tags
    become line breaks. Malformed or cut-off HTML never raises: what was read so far is kept.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "".join(extractor.parts), extractor.quoted


def remove_quoted_history(text: str) -> tuple[str, bool]:
    """Drop the earlier e-mail thread from ``text``; return the rest and whether anything went.

    Lines starting with ``>`` are dropped wherever they are (inline replies keep the lines
    between them). Everything from the first history header on is dropped: "On … wrote:" (also
    wrapped over two lines and in de, fr, es, pt, it, nl, ru, zh, ko, ja), an "Original
    Message" rule, or a "From:" line followed within four lines by "Sent:"/"Date:" (also
    "发件人:" … "发送时间:" and their usual translations).
    """
    lines = text.split("\n")
    kept: list[str] = []
    removed = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _starts_history(stripped, lines, index):
            return "\n".join(kept), True
        if stripped.startswith(">"):
            removed = True
            continue
        kept.append(line)
    return "\n".join(kept), removed


def _starts_history(stripped: str, lines: list[str], index: int) -> bool:
    if not stripped:
        return False
    if _ORIGINAL_MESSAGE.match(stripped):
        return True
    if len(stripped) < 300 and _WROTE.search(stripped):
        return True
    following = [line.strip() for line in lines[index + 1 : index + 5]]
    if following and len(stripped) < 200 and following[0] and _WROTE.search(following[0]):
        # "On Mon, 1 Jan 2024 at 10:00, Anna <anna@example.com>" / "wrote:" on the next line.
        return stripped.lower().startswith(("on ", "am ", "le ", "el ", "em ", "il ", "op "))
    if _FROM_HEADER.match(stripped):
        return any(_SENT_HEADER.match(line) for line in following)
    return False


def _junk_share(text: str) -> float:
    sample = text[:DEFAULT_MAX_CHARS]
    return len(_JUNK_CHARS.findall(sample)) / len(sample) if sample else 0.0


def clean(text: str | bytes, *, max_chars: int = DEFAULT_MAX_CHARS) -> Cleaned:
    """Turn a raw message into plain text for triage; never raises on content.

    ``bytes`` are read as UTF-8 (undecodable bytes count as junk). Text longer than
    ``max_chars`` is cut first (``truncated``), so a 1 MB body costs what 20,000 characters
    cost. HTML is reduced to its visible text (``was_html``), quoted history is removed
    (``removed_quote``), control characters are dropped and all whitespace runs become one
    space. When more than 10 % of the characters are control or undecodable characters the
    input is binary junk: ``text`` is empty and ``discarded`` says why.

    Raises:
        ValueError: ``max_chars`` is not positive.
    """
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    share = _junk_share(text)
    if share > _JUNK_SHARE:
        return Cleaned("", discarded=f"binary junk: {share:.0%} control or undecodable characters")
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars]
    text = _JUNK_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    was_html = _HTML_TAG.search(text) is not None
    quoted_in_html = False
    if was_html:
        text, quoted_in_html = html_to_text(text)
    text, quoted_in_text = remove_quoted_history(text)
    return Cleaned(
        _SPACES.sub(" ", text).strip(),
        truncated=truncated,
        removed_quote=quoted_in_html or quoted_in_text,
        was_html=was_html,
    )
